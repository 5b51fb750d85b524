import {
  endOfLocalDay,
  isCalendarDate,
  isValidTimeZone,
  localDate,
  startOfLocalDay,
  zoneOffsetMs,
} from './credit-dates';

describe('credit dates', () => {
  it('puts the end of a Shanghai day at 16:00 UTC of the same date', () => {
    expect(endOfLocalDay('2026-03-01', 'Asia/Shanghai').toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(startOfLocalDay('2026-03-01', 'Asia/Shanghai').toISOString()).toBe('2026-02-28T16:00:00.000Z');
  });

  it('crosses month and year ends', () => {
    expect(endOfLocalDay('2026-02-28', 'Asia/Shanghai').toISOString()).toBe('2026-02-28T16:00:00.000Z');
    expect(endOfLocalDay('2026-12-31', 'Asia/Shanghai').toISOString()).toBe('2026-12-31T16:00:00.000Z');
    expect(endOfLocalDay('2028-02-29', 'UTC').toISOString()).toBe('2028-03-01T00:00:00.000Z');
  });

  it('follows daylight saving time where the zone has it', () => {
    // New York springs forward on 2026-03-08: that day is 23 hours long.
    expect(startOfLocalDay('2026-03-08', 'America/New_York').toISOString()).toBe('2026-03-08T05:00:00.000Z');
    expect(endOfLocalDay('2026-03-08', 'America/New_York').toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(endOfLocalDay('2026-11-01', 'America/New_York').toISOString()).toBe('2026-11-02T05:00:00.000Z');
  });

  it('reads the local date of an instant on either side of local midnight', () => {
    expect(localDate(new Date('2026-03-01T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-03-01');
    expect(localDate(new Date('2026-03-01T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-03-02');
    expect(zoneOffsetMs(new Date('2026-03-01T00:00:00Z'), 'Asia/Shanghai')).toBe(8 * 3600_000);
  });

  it('accepts only real calendar dates and known zones', () => {
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-3-1')).toBe(false);
    expect(() => endOfLocalDay('2026-13-01', 'Asia/Shanghai')).toThrow('not a calendar date');
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
