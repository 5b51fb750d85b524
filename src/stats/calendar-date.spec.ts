import { addDays, isCalendarDate, localDate, localMinutes } from './calendar-date';
import { collectSlot, dailyReportDue } from './stats-schedule';

describe('calendar dates in a time zone', () => {
  it('puts 2026-11-27T16:30Z on 2026-11-28 in Asia/Shanghai', () => {
    expect(localDate(new Date('2026-11-27T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-28');
    expect(localDate(new Date('2026-11-27T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-11-27');
    expect(localDate(new Date('2026-11-27T16:30:00Z'), 'UTC')).toBe('2026-11-27');
    expect(localMinutes(new Date('2026-11-27T16:30:00Z'), 'Asia/Shanghai')).toBe(30);
  });

  it('validates and shifts calendar days', () => {
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-1-01')).toBe(false);
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('stats schedule', () => {
  it('makes the previous day due at 00:10 local time', () => {
    // 00:09 and 00:10 in Shanghai on 2026-11-28.
    expect(dailyReportDue(new Date('2026-11-27T16:09:00Z'), 'Asia/Shanghai')).toBe('2026-11-26');
    expect(dailyReportDue(new Date('2026-11-27T16:10:00Z'), 'Asia/Shanghai')).toBe('2026-11-27');
    expect(dailyReportDue(new Date('2026-11-28T15:59:00Z'), 'Asia/Shanghai')).toBe('2026-11-27');
  });

  it('aligns collect slots so replicas agree', () => {
    expect(collectSlot(new Date('2026-11-28T14:07:31Z'), 5).toISOString()).toBe('2026-11-28T14:05:00.000Z');
    expect(collectSlot(new Date('2026-11-28T14:05:00Z'), 5).toISOString()).toBe('2026-11-28T14:05:00.000Z');
  });
});
