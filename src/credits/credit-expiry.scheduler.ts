import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CronJob } from 'cron';
import { AppConfig } from '../config/app-config';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { localDate } from '../common/calendar-date';
import { ExpireTask } from './credits.tasks';
import { CreditsEnvironment } from './credits.environment';

/**
 * Submits `tasks.credits.expire` once a day on a cron in `TZ`. It runs in the api processes
 * (like the reconciler); when several replicas fire at once, the per-day idempotency key makes
 * them submit one task.
 */
@Injectable()
export class CreditExpiryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CreditExpiryScheduler.name);
  private job?: CronJob;

  constructor(
    private readonly config: AppConfig,
    private readonly submission: TaskSubmissionService,
  ) {}

  onApplicationBootstrap(): void {
    const cron = this.config.section(CreditsEnvironment).CREDITS_EXPIRE_CRON;
    if (!this.config.runsApi || cron === 'off') return;
    this.job = CronJob.from({
      cronTime: cron,
      timeZone: this.config.env.TZ,
      onTick: () => void this.submitDaily(),
      start: true,
    });
    this.logger.log(
      `Credit expiry scheduled at "${cron}" in ${this.config.env.TZ}; next run ${this.job.nextDate().toISO()}`,
    );
  }

  onApplicationShutdown(): void {
    void this.job?.stop();
  }

  /** Submits today's expiry run (at most one per local day). */
  async submitDaily(now = new Date()): Promise<void> {
    const day = localDate(now, this.config.env.TZ);
    try {
      const { run, created } = await this.submission.submit(
        ExpireTask,
        { asOf: now.toISOString() },
        { owner: null, idempotencyKey: `credits-expire-${day}` },
      );
      if (created) this.logger.log(`Submitted the credit expiry of ${day} as task ${run.id}`);
    } catch (error) {
      this.logger.error(`Could not submit the credit expiry of ${day}: ${error.message}`);
    }
  }
}
