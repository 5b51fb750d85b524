import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

/** What one host may receive from all workers together. */
export interface HostLimit {
  /** Requests started per second (a sliding one-second window). */
  ratePerSecond?: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

/** Host name (`api.example.com`) or `*.suffix` → its limit; an exact name wins over a wildcard. */
export type HostLimits = Record<string, HostLimit>;

const MAX_RATE = 10_000;
const MAX_CONCURRENCY = 1_000;
const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const EXAMPLE = '{"api.example.com":{"ratePerSecond":10,"concurrency":4}}';

/** Why `value` is not a valid `API_CALLS_HOST_LIMITS`, or null when it is. */
export function hostLimitsProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return `must be a JSON object of host → { ratePerSecond, concurrency }, e.g. ${EXAMPLE}`;
  for (const [host, limit] of Object.entries(value)) {
    if (!HOST.test(host)) return `key "${host}" must be a lower-case host name or *.suffix`;
    if (!limit || typeof limit !== 'object' || Array.isArray(limit)) return `entry ${host} must be an object`;
    const keys = Object.keys(limit);
    if (keys.length === 0 || keys.some((k) => k !== 'ratePerSecond' && k !== 'concurrency'))
      return `entry ${host} may set only ratePerSecond and concurrency (at least one)`;
    const { ratePerSecond, concurrency } = limit as Record<string, unknown>;
    if (ratePerSecond !== undefined && !(Number.isInteger(ratePerSecond) && inRange(ratePerSecond, MAX_RATE)))
      return `entry ${host}: ratePerSecond must be an integer from 1 to ${MAX_RATE}`;
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && inRange(concurrency, MAX_CONCURRENCY)))
      return `entry ${host}: concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`;
  }
  return null;
}

const inRange = (n: unknown, max: number) => (n as number) >= 1 && (n as number) <= max;

@ValidatorConstraint({ name: 'hostLimits' })
export class IsHostLimits implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return hostLimitsProblem(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} ${hostLimitsProblem(args.value)}`;
  }
}

/** `'{"a":…}'` → the parsed object; text that is not JSON is left for the validator to name. */
export const parseJson = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

/** The limit that applies to `host` (lower-cased): its own entry, else the longest matching `*.suffix`. */
export function limitFor(limits: HostLimits, host: string): { key: string; limit: HostLimit } | null {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (Object.hasOwn(limits, name)) return { key: name, limit: limits[name] };
  const wildcard = Object.keys(limits)
    .filter((key) => key.startsWith('*.') && name.endsWith(key.slice(1)))
    .sort((a, b) => b.length - a.length)[0];
  return wildcard ? { key: wildcard, limit: limits[wildcard] } : null;
}
