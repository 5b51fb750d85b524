import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

/**
 * How far ahead of this process's clock an `asOf` may be: the worker validates the payload
 * again on its own clock, which may be a little behind the one that accepted it.
 */
export const AS_OF_CLOCK_SKEW_MS = 60_000;

/**
 * An expiry run's `asOf` must not be in the future: expiring "as of" next month would take
 * points that are still valid today (the README's example did, on 2026-12-06, to grants
 * valid until 31 Dec). Unparsable values are left to the date-format rule.
 */
@ValidatorConstraint({ name: 'notInFuture' })
export class NotInFutureRule implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    const time = typeof value === 'string' ? Date.parse(value) : NaN;
    return Number.isNaN(time) || time <= Date.now() + AS_OF_CLOCK_SKEW_MS;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must not be in the future: an expiry run expires what is due by now, never points that are still valid`;
  }
}
