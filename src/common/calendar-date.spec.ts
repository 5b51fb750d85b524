import {
  addDays,
  endOfLocalDay,
  isCalendarDate,
  isValidTimeZone,
  localDate,
  localMinutes,
  startOfLocalDay,
} from './calendar-date';

describe('calendar dates in a time zone', () => {
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

  // Santiago and Havana skip from 23:59:59 to 01:00: the hand-written helpers put the start of such a
  // day an hour early, on the previous day, so a grant expiring the day before lost its last hour.
  it('starts a day whose midnight is skipped at 01:00, not an hour before it on the previous day', () => {
    expect(startOfLocalDay('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(endOfLocalDay('2026-09-05', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(localDate(new Date('2026-09-06T03:30:00Z'), 'America/Santiago')).toBe('2026-09-05');
    expect(startOfLocalDay('2026-03-08', 'America/Havana').toISOString()).toBe('2026-03-08T05:00:00.000Z');
  });

  it('reads the local date and time of an instant on either side of local midnight', () => {
    expect(localDate(new Date('2026-11-27T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-28');
    expect(localDate(new Date('2026-11-27T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-11-27');
    expect(localDate(new Date('2026-11-27T16:30:00Z'), 'UTC')).toBe('2026-11-27');
    expect(localMinutes(new Date('2026-11-27T16:30:00Z'), 'Asia/Shanghai')).toBe(30);
    expect(localDate(new Date('0999-06-01T00:00:00Z'), 'UTC')).toBe('0999-06-01');
  });

  it('validates and shifts calendar days', () => {
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-1-01')).toBe(false);
    expect(isCalendarDate('2026-01-01T00:00')).toBe(false);
    expect(isCalendarDate(20260101)).toBe(false);
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(() => endOfLocalDay('2026-13-01', 'Asia/Shanghai')).toThrow('not a calendar date');
  });

  it('knows IANA zones and refuses others', () => {
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(() => localDate(new Date(), 'Mars/Olympus')).toThrow(/Mars\/Olympus is not a time zone/);
  });
});
