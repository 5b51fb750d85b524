import { UnprocessableEntityException } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { fieldErrorsException } from './field-errors';

/** Longest key accepted (the column holds 200 characters). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** Where a caller's key came from and what it was, for the error that names it. */
export interface CallerIdempotencyKey {
  /** `Idempotency-Key` for the header, else the body field (`options.idempotencyKey`, `idempotencyKey`). */
  field: string;
  key: string;
}

/**
 * A caller's key, read the same way wherever it comes from (the header through
 * `@SubmitContext()`, or a body field): trimmed, blank means none, longer than 200 characters
 * is a 400 naming `field`.
 */
export function callerIdempotencyKey(
  value: string | undefined,
  field = 'Idempotency-Key',
): CallerIdempotencyKey | undefined {
  const key = value?.trim();
  if (!key) return undefined;
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw fieldErrorsException([
      { field, rule: 'maxLength', message: `${field} must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` },
    ]);
  return { field, key };
}

/**
 * True when two payloads are the same JSON (key order aside). `submitted` is compared as it is
 * stored: through JSON, so a Date or a class instance counts as what it serialises to.
 */
export function sameJson(stored: unknown, submitted: unknown): boolean {
  return isDeepStrictEqual(stored ?? null, submitted === undefined ? null : JSON.parse(JSON.stringify(submitted)));
}

/**
 * The IETF httpapi Idempotency-Key draft: a key reused with a different payload is a 422 that
 * names the key, so the caller sees the mistake instead of the first request's task.
 */
export function idempotencyKeyReused({ field, key }: CallerIdempotencyKey): UnprocessableEntityException {
  const message = `${field} ${JSON.stringify(key)} was already used for a request with a different payload; send the same payload to get its task, or use a new key`;
  return new UnprocessableEntityException({
    statusCode: 422,
    error: 'Unprocessable Entity',
    message: [message],
    errors: [{ field, rule: 'samePayload', message }],
  });
}
