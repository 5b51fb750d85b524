import { ValidateBy, ValidationOptions } from 'class-validator';
import { DateTime, IANAZone } from 'luxon';

/**
 * Calendar days where the business runs (an IANA zone, e.g. Asia/Shanghai), whatever the server's
 * own zone: a grant "expiring on 2026-03-01" ends with that day there, a daily report covers that
 * day there. Luxon does the zone arithmetic, including days that do not start at 00:00 (Santiago
 * and Havana move their clocks at midnight) and days of 23 or 25 hours.
 */

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  return IANAZone.isValidZone(timeZone);
}

/** True for a real `YYYY-MM-DD` day (2026-02-30 is not one). */
export function isCalendarDate(value: unknown): value is string {
  return (
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid
  );
}

export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCalendarDate',
      validator: {
        validate: isCalendarDate,
        defaultMessage: (args) => `${args?.property} must be a date as YYYY-MM-DD`,
      },
    },
    options,
  );
}

/** The calendar day `instant` falls on in `timeZone`, as `YYYY-MM-DD`. */
export function localDate(instant: Date, timeZone: string): string {
  return inZone(instant, timeZone).toISODate()!;
}

/** Minutes since local midnight of `instant` in `timeZone`. */
export function localMinutes(instant: Date, timeZone: string): number {
  const local = inZone(instant, timeZone);
  return local.hour * 60 + local.minute;
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return day(date, 'utc').plus({ days }).toISODate()!;
}

/** The first instant of `date` (YYYY-MM-DD) in `timeZone`: local midnight, or the hour after a skipped midnight. */
export function startOfLocalDay(date: string, timeZone: string): Date {
  return day(date, timeZone).toJSDate();
}

/**
 * The instant a grant "expiring on `date`" stops counting: the end of that day in `timeZone`,
 * i.e. the first instant of the next day. 2026-03-01 in Asia/Shanghai → 2026-03-01T16:00:00Z.
 */
export function endOfLocalDay(date: string, timeZone: string): Date {
  return day(date, timeZone).plus({ days: 1 }).startOf('day').toJSDate();
}

function inZone(instant: Date, timeZone: string): DateTime {
  const local = DateTime.fromJSDate(instant, { zone: timeZone });
  if (!local.isValid) throw new Error(`${timeZone} is not a time zone (${local.invalidExplanation})`);
  return local;
}

function day(date: string, timeZone: string): DateTime {
  if (!isCalendarDate(date)) throw new Error(`${date} is not a calendar date (YYYY-MM-DD)`);
  const start = DateTime.fromISO(date, { zone: timeZone }).startOf('day');
  if (!start.isValid) throw new Error(`${timeZone} is not a time zone (${start.invalidExplanation})`);
  return start;
}
