import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';

export const MAX_URL_LENGTH = 2048;
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;
// Set by the client from the URL and the body; letting a caller set them invites smuggling.
const MANAGED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'expect',
  'proxy-connection',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why `value` is not an acceptable outbound URL, or null. */
export function httpUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH)
    return `must be a string of at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `must use http or https, not ${url.protocol.replace(':', '')}`;
  // Credentials in a URL end up in logs and records; they belong in the Authorization header.
  if (url.username || url.password) return 'must not carry credentials (send them in the Authorization header)';
  return null;
}

export function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHttpUrl',
      validator: {
        validate: (value) => httpUrlProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => `${args?.property} ${httpUrlProblem(args?.value)}`,
      },
    },
    options,
  );
}

/** Why `value` is not a map of header names to string values, or null. */
export function headerMapProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return 'must be an object of header names to string values';
  const entries = Object.entries(value);
  if (entries.length > 50) return 'may hold at most 50 headers';
  for (const [name, header] of entries) {
    if (!TOKEN.test(name)) return `has an invalid header name "${name.slice(0, 50)}"`;
    if (MANAGED_HEADERS.has(name.toLowerCase())) return `may not set ${name}: the client sets it`;
    if (typeof header !== 'string' || header.length > 8192)
      return `${name} must be a string of at most 8192 characters`;
    if (/[\r\n\0]/.test(header)) return `${name} may not contain CR, LF or NUL`;
  }
  return null;
}

export function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHeaderMap',
      validator: {
        validate: (value) => headerMapProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => `${args?.property} ${headerMapProblem(args?.value)}`,
      },
    },
    options,
  );
}

/** A JSON value (or string) no larger than `maxBytes` once serialised: payloads stay small. */
export function MaxJsonBytes(maxBytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      validator: {
        validate: (value) =>
          Buffer.byteLength(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')) <= maxBytes,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be at most ${maxBytes} bytes once serialised`,
      },
    },
    options,
  );
}

/** The body is only allowed when the method carries one. */
export function NoBodyFor(methods: string[], options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'bodyNotAllowed',
      validator: {
        validate: (value, args) =>
          value === undefined ||
          value === null ||
          !methods.includes(String((args?.object as { method?: string }).method)),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} is not allowed with ${(args?.object as { method?: string }).method}`,
      },
    },
    options,
  );
}

/** One HTTP status (100–599) or a list of them. */
export function IsStatusList(options?: ValidationOptions): PropertyDecorator {
  const isStatus = (v: unknown) => Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 599;
  return ValidateBy(
    {
      name: 'isStatusList',
      validator: {
        validate: (value) =>
          isStatus(value) || (Array.isArray(value) && value.length > 0 && value.length <= 20 && value.every(isStatus)),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property} must be an HTTP status (100-599) or a list of up to 20 of them`,
      },
    },
    options,
  );
}
