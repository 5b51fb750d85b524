import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { TaskDefinition } from '../tasks/task-definition';
import { collectSlot, dailyReportDue } from './stats-schedule';
import { StatsEnvironment } from './stats.environment';
import { CollectStatsTask, DailyReportTask } from './stats.tasks';

const TICK_MS = 15_000;

/**
 * Submits `collect` at every slot boundary and `daily_report` when 00:10 in TZ passes, from api
 * processes only. Every replica ticks; the idempotency key (one per slot or day, owner null)
 * lets exactly one submission through. The first tick only notes where the clock is, so a
 * process that starts submits nothing until a boundary actually passes while it runs.
 */
@Injectable()
export class StatsScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StatsScheduler.name);
  private readonly enabled: boolean;
  private readonly intervalMinutes: number;
  private readonly timeZone: string;
  private timer?: NodeJS.Timeout;
  private lastSlot?: string;
  private lastDueDate?: string;

  constructor(
    config: AppConfig,
    private readonly submission: TaskSubmissionService,
  ) {
    const settings = config.section(StatsEnvironment);
    this.enabled = config.runsApi && settings.STATS_SCHEDULE;
    this.intervalMinutes = settings.STATS_COLLECT_INTERVAL_MINUTES;
    this.timeZone = config.env.TZ;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async tick(now = new Date()): Promise<void> {
    const slot = collectSlot(now, this.intervalMinutes).toISOString();
    if (this.lastSlot === undefined) this.lastSlot = slot;
    else if (
      slot !== this.lastSlot &&
      (await this.submit(
        CollectStatsTask,
        { intervalMinutes: this.intervalMinutes, windowEnd: slot },
        `stats.collect:${slot}`,
      ))
    ) {
      this.lastSlot = slot;
    }
    const due = dailyReportDue(now, this.timeZone);
    if (this.lastDueDate === undefined) this.lastDueDate = due;
    else if (
      due !== this.lastDueDate &&
      (await this.submit(DailyReportTask, { date: due }, `stats.daily_report:${due}`))
    ) {
      this.lastDueDate = due;
    }
  }

  /** False when the submission failed: the next tick tries again. */
  private async submit<Args extends object>(
    task: TaskDefinition<Args>,
    args: Args,
    idempotencyKey: string,
  ): Promise<boolean> {
    try {
      const { run, created } = await this.submission.submit(task, args, { owner: null, idempotencyKey });
      if (created)
        this.logger.log({ msg: 'Scheduled task submitted', taskId: run.id, task: task.name, idempotencyKey });
      return true;
    } catch (error) {
      this.logger.warn({
        msg: 'Could not submit a scheduled task; will try on the next tick',
        task: task.name,
        idempotencyKey,
        error: error.message,
      });
      return false;
    }
  }
}
