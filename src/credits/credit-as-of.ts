import { FieldError } from '../common/field-errors';

/**
 * How far ahead of this process's clock an `asOf` may be: the worker checks it again on its
 * own clock, which may be a little behind the one that accepted it.
 */
export const AS_OF_CLOCK_SKEW_MS = 60_000;

/**
 * A caller's expiry run must not look into the future: expiring "as of" next month takes
 * points that are still valid today (the README's example did, on 2026-12-06, to grants valid
 * until 31 Dec). The scheduler's own runs use its clock and are not checked. Undefined when
 * `asOf` is absent, unparsable (the format rule reports that) or not in the future.
 */
export function futureAsOf(asOf: string | undefined, field = 'asOf', now = Date.now()): FieldError | undefined {
  const time = asOf === undefined ? NaN : Date.parse(asOf);
  if (Number.isNaN(time) || time <= now + AS_OF_CLOCK_SKEW_MS) return undefined;
  return {
    field,
    rule: 'notInFuture',
    message: `${field} must not be in the future: an expiry run expires what is due by now, never points that are still valid`,
  };
}
