import { Transform } from 'class-transformer';
import {
  IsOptional,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { RetryPolicy } from '../task-definition';

const MAX_ATTEMPTS = 100;
const MAX_BACKOFF_MS = 24 * 3600_000;

export type RetryOverrides = Record<string, Partial<RetryPolicy>>;

/** `TASK_RETRY_OVERRIDES` is a JSON object: task name → `{ attempts?, backoffMs? }`. */
@ValidatorConstraint({ name: 'retryOverrides' })
class IsRetryOverrides implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return problemOf(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return `TASK_RETRY_OVERRIDES ${problemOf(args.value)}, e.g. {"tasks.api.call":{"attempts":5,"backoffMs":2000}}`;
  }
}

function problemOf(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object of task name → policy';
  for (const [name, policy] of Object.entries(value)) {
    if (!policy || typeof policy !== 'object' || Array.isArray(policy)) return `entry ${name} must be an object`;
    const keys = Object.keys(policy);
    const unknown = keys.filter((k) => k !== 'attempts' && k !== 'backoffMs');
    if (unknown.length > 0 || keys.length === 0) return `entry ${name} may set only attempts and backoffMs`;
    const { attempts, backoffMs } = policy as Record<string, unknown>;
    if (
      attempts !== undefined &&
      !(Number.isInteger(attempts) && (attempts as number) >= 1 && (attempts as number) <= MAX_ATTEMPTS)
    )
      return `entry ${name}: attempts must be an integer from 1 to ${MAX_ATTEMPTS}`;
    if (
      backoffMs !== undefined &&
      !(Number.isInteger(backoffMs) && (backoffMs as number) >= 0 && (backoffMs as number) <= MAX_BACKOFF_MS)
    )
      return `entry ${name}: backoffMs must be an integer from 0 to ${MAX_BACKOFF_MS}`;
  }
  return null;
}

const parseJson = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(String(value));
  } catch {
    return String(value);
  }
};

/** Operator overrides of the retry policy each task declares. */
export class TaskRetryEnvironment {
  /** JSON: task name → `{ "attempts": n, "backoffMs": ms }` (either key may be left out). */
  @IsOptional()
  @Transform(parseJson)
  @Validate(IsRetryOverrides)
  TASK_RETRY_OVERRIDES?: RetryOverrides;
}
