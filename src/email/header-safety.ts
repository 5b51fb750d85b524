import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { EmailLimits } from './email.limits';

/**
 * Header injection defences. A CR or LF in a subject, address, file name or header value would
 * let a caller add headers (or a whole body) of their own, so any such value is a 400 at submit.
 */
export function hasLineBreak(value: unknown): boolean {
  if (typeof value === 'string') return /[\r\n]/.test(value);
  if (Array.isArray(value)) return value.some(hasLineBreak);
  return false;
}

/** Rejects a string (or every string of an array) holding CR or LF. */
export function NoLineBreaks(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'noLineBreaks',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must not contain CR or LF characters (header injection)`, ...options },
      validator: { validate: (value: unknown) => !hasLineBreak(value) },
    });
}

/** Headers the service sets itself; a caller may not override them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'return-path',
  'received',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'dkim-signature',
]);

const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,76}$/;

/** Why a map of extra headers is unacceptable, or null when it is fine. */
export function headersProblem(headers: unknown): string | null {
  if (headers === undefined) return null;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers))
    return 'headers must be an object of header name → string value';
  const entries = Object.entries(headers);
  if (entries.length > EmailLimits.HEADERS) return `headers may hold at most ${EmailLimits.HEADERS} entries`;
  for (const [name, value] of entries) {
    if (hasLineBreak(name) || !FIELD_NAME.test(name))
      return `headers.${JSON.stringify(name)} is not a valid header name (letters, digits and -, no CR or LF)`;
    if (RESERVED_HEADERS.has(name.toLowerCase())) return `headers.${name} is set by the service and cannot be given`;
    if (typeof value !== 'string') return `headers.${name} must be a string`;
    if (hasLineBreak(value)) return `headers.${name} must not contain CR or LF characters (header injection)`;
    if (value.length > EmailLimits.HEADER_VALUE_LENGTH)
      return `headers.${name} must be at most ${EmailLimits.HEADER_VALUE_LENGTH} characters`;
  }
  return null;
}

/** Validates a `headers` map with {@link headersProblem}; the message names the bad header. */
export function IsSafeHeaders(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'safeHeaders',
      target: object.constructor,
      propertyName,
      options: {
        message: (args: ValidationArguments) => headersProblem(args.value) ?? 'headers are invalid',
        ...options,
      },
      validator: { validate: (value: unknown) => headersProblem(value) === null },
    });
}

/** Bytes a base64 string decodes to. */
export function base64Bytes(content: string): number {
  const padding = content.endsWith('==') ? 2 : content.endsWith('=') ? 1 : 0;
  return Math.floor((content.length * 3) / 4) - padding;
}

/** Caps the decoded size of all inline attachments together. */
export function AttachmentsWithinLimit(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'attachmentsWithinLimit',
      target: object.constructor,
      propertyName,
      options: {
        message: `${propertyName} may hold at most ${EmailLimits.ATTACHMENT_BYTES} bytes in total (decoded)`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          !Array.isArray(value) ||
          value.reduce((sum, a) => sum + (typeof a?.content === 'string' ? base64Bytes(a.content) : 0), 0) <=
            EmailLimits.ATTACHMENT_BYTES,
      },
    });
}
