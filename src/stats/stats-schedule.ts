import { addDays, localDate, localMinutes } from '../common/calendar-date';

/** The daily report of a day is due at 00:10 the next day, in the report's time zone. */
export const DAILY_REPORT_MINUTE = 10;

/** Start of the `minutes`-long slot `now` is in; slots are aligned to the epoch, so every replica agrees. */
export function collectSlot(now: Date, minutes: number): Date {
  const size = minutes * 60_000;
  return new Date(Math.floor(now.getTime() / size) * size);
}

/** The newest day whose daily report is due at `now`: yesterday from 00:10 on, the day before until then. */
export function dailyReportDue(now: Date, timeZone: string): string {
  const today = localDate(now, timeZone);
  return addDays(today, localMinutes(now, timeZone) >= DAILY_REPORT_MINUTE ? -1 : -2);
}
