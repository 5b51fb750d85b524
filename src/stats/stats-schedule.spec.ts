import { collectSlot, dailyReportDue } from './stats-schedule';

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
