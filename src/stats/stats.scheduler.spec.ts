import { AppConfig } from '../config/app-config';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { StatsScheduler } from './stats.scheduler';
import { CollectStatsTask, DailyReportTask } from './stats.tasks';

describe('StatsScheduler', () => {
  const submit = jest.fn();
  const config = AppConfig.fromEnv({ TZ: 'Asia/Shanghai', STATS_COLLECT_INTERVAL_MINUTES: '5' });
  let sut: StatsScheduler;

  beforeEach(() => {
    submit.mockReset().mockResolvedValue({ run: { id: 'r' }, created: true });
    sut = new StatsScheduler(config, { submit } as unknown as TaskSubmissionService);
  });

  it('submits nothing on the first tick, then one collect per slot boundary', async () => {
    await sut.tick(new Date('2026-11-28T14:03:00Z'));
    await sut.tick(new Date('2026-11-28T14:04:50Z'));
    expect(submit).not.toHaveBeenCalled();
    await sut.tick(new Date('2026-11-28T14:05:05Z'));
    await sut.tick(new Date('2026-11-28T14:05:20Z'));
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit).toHaveBeenCalledWith(
      CollectStatsTask,
      { intervalMinutes: 5, windowEnd: '2026-11-28T14:05:00.000Z' },
      { owner: null, idempotencyKey: 'stats.collect:2026-11-28T14:05:00.000Z' },
    );
  });

  it("submits the previous day's report once 00:10 passes in TZ", async () => {
    await sut.tick(new Date('2026-11-28T16:09:50Z')); // 00:09:50 on the 29th in Shanghai
    await sut.tick(new Date('2026-11-28T16:10:05Z'));
    expect(submit).toHaveBeenCalledWith(
      DailyReportTask,
      { date: '2026-11-28' },
      { owner: null, idempotencyKey: 'stats.daily_report:2026-11-28' },
    );
  });

  it('tries a failed submission again on the next tick', async () => {
    await sut.tick(new Date('2026-11-28T14:04:59Z'));
    submit.mockRejectedValueOnce(new Error('redis down'));
    await sut.tick(new Date('2026-11-28T14:05:01Z'));
    await sut.tick(new Date('2026-11-28T14:05:16Z'));
    expect(submit).toHaveBeenCalledTimes(2);
    expect(submit.mock.calls[1][2].idempotencyKey).toBe('stats.collect:2026-11-28T14:05:00.000Z');
  });
});
