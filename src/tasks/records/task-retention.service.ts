import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { SingletonLoop } from '../../database/singleton-loop';
import { StoreHealth } from '../store-health';
import { ROLLUP_RETENTION_DAYS } from './task-statistics.service';
import { TaskRunStore } from './task-run.store';

// One retention batch at a time across replicas (a transaction-scoped advisory lock per batch):
// replicas take turns instead of fighting over the same rows' locks.
const LOCK_KEY = 0x7a5c_0003;
const BATCH = 5000;

/**
 * Deletes finished records past their retention (Celery's `result_expires`,
 * `RESULT_EXPIRES_SECONDS`), on the reconciler's cadence, and the statistics rollups past theirs.
 */
@Injectable()
export class TaskRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskRetention.name);
  private readonly loop: SingletonLoop<void>;

  constructor(
    private readonly config: AppConfig,
    dataSource: DataSource,
    private readonly store: TaskRunStore,
    private readonly stores: StoreHealth,
  ) {
    this.loop = new SingletonLoop({
      name: 'Retention pass',
      logger: this.logger,
      intervalMs: config.env.RECONCILE_INTERVAL_MS,
      lock: { dataSource, key: LOCK_KEY },
      pass: () => this.expire(),
      // As when this pass was part of the reconciler's: skipped while either store is down.
      due: () => !this.stores.isDown('database') && !this.stores.isDown('transport'),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * Deletes finished records past retention, in short transactions of a few thousand rows.
   * Domain records that are a task's result (API call records, e-mail messages and
   * notifications) reference `task_runs` with ON DELETE CASCADE and go with it.
   */
  async expire(): Promise<void> {
    const cutoff = new Date(Date.now() - this.config.env.RESULT_EXPIRES_SECONDS * 1000);
    let total = 0;
    for (;;) {
      const deleted =
        (await this.loop.exclusive((manager) => this.store.deleteFinishedBefore(manager, cutoff, BATCH), {
          wait: true,
        })) ?? 0;
      total += deleted;
      if (deleted < BATCH) break;
    }
    // The rollups behind GET /stats outlive the records, not forever.
    await this.store.deleteRollupsOlderThan(1, ROLLUP_RETENTION_DAYS.minutely);
    await this.store.deleteRollupsOlderThan(60, ROLLUP_RETENTION_DAYS.hourly);
    if (total > 0) this.logger.log(`Deleted ${total} task records older than the retention period`);
  }
}
