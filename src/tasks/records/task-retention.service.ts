import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { SingletonLoop } from '../../database/singleton-loop';
import { StoreHealth } from '../store-health';
import { ROLLUP_RETENTION_DAYS } from './task-statistics.service';
import { TaskRunStore } from './task-run.store';
import { DAY_MS, DAYS_AHEAD, DayPartition, dayOf, firstIdAt, TaskRunPartitions } from './task-run-partitions';

// One retention batch at a time across replicas (a transaction-scoped advisory lock per batch):
// replicas take turns instead of fighting over the same rows' locks.
const LOCK_KEY = 0x7a5c_0003;
const BATCH = 5000;

/**
 * Deletes finished records past their retention (Celery's `result_expires`,
 * `RESULT_EXPIRES_SECONDS`), on the reconciler's cadence, and the statistics rollups past theirs.
 * It also keeps `task_runs`' daily partitions ({@link TaskRunPartitions}): each pass makes those
 * of the next days and drops the days whose records have all expired; the records no drop takes
 * are deleted in batches.
 */
@Injectable()
export class TaskRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskRetention.name);
  private readonly loop: SingletonLoop<void>;

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly store: TaskRunStore,
    private readonly stores: StoreHealth,
    private readonly partitions: TaskRunPartitions,
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

  /** Before the first request: today's and the next days' partitions exist, so no day starts in the default one. */
  async onApplicationBootstrap(): Promise<void> {
    await this.partitions
      .list(this.dataSource.manager)
      .then((existing) => this.makePartitions(Date.now(), existing))
      .catch((error) => this.logger.warn(`Could not make task_runs' partitions: ${error.message}`));
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * Deletes finished records past retention as of `at` (now; a spec moves the clock): whole days
   * of records by dropping their partitions, the rest in short transactions of a few thousand
   * rows. Domain records that are a task's result (API call records, e-mail messages and
   * notifications, exports) reference `task_runs` and go with it.
   */
  async expire(at: number = Date.now()): Promise<void> {
    const cutoff = new Date(at - this.config.env.RESULT_EXPIRES_SECONDS * 1000);
    // A day that cannot be made or dropped now (a lock not granted in time) is left as it is for
    // the next pass; the records no drop takes are deleted all the same.
    const existing = await this.partitions.list(this.dataSource.manager);
    await this.makePartitions(at, existing).catch((error) =>
      this.logger.warn(`Could not make a partition: ${error.message}`),
    );
    let dropped = 0;
    // A day cut around callers' ids has several partitions: one drop takes them all.
    const due = new Set(existing.map((p) => p.day).filter((day) => day + DAY_MS <= cutoff.getTime()));
    for (const day of due) {
      dropped += await this.loop
        .exclusive((manager) => this.partitions.drop(manager, day, cutoff), { wait: true })
        .then((records) => records ?? 0)
        .catch((error) => {
          this.logger.warn(
            `Could not drop the partitions of ${new Date(day).toISOString().slice(0, 10)}: ${error.message}`,
          );
          return 0;
        });
    }
    // The first day whose partition is not due: its records wait for the drop.
    const keptFrom = firstIdAt(dayOf(cutoff.getTime()));
    let deleted = 0;
    for (;;) {
      const batch =
        (await this.loop.exclusive((manager) => this.store.deleteFinishedBefore(manager, cutoff, keptFrom, BATCH), {
          wait: true,
        })) ?? 0;
      deleted += batch;
      if (batch < BATCH) break;
    }
    // The rollups behind GET /stats outlive the records, not forever.
    await this.store.deleteRollupsOlderThan(1, ROLLUP_RETENTION_DAYS.minutely);
    await this.store.deleteRollupsOlderThan(60, ROLLUP_RETENTION_DAYS.hourly);
    if (dropped + deleted > 0)
      this.logger.log(
        `Deleted task records older than the retention period: about ${dropped} in whole days, ${deleted} one by one`,
      );
  }

  /**
   * Today's partition and those of the next {@link DAYS_AHEAD} days that `existing` lacks, each
   * made by one replica (`ensure` checks again under the lock).
   */
  private async makePartitions(at: number, existing: DayPartition[]): Promise<void> {
    const have = new Set(existing.map((p) => p.day));
    for (let day = dayOf(at); day <= dayOf(at) + DAYS_AHEAD * DAY_MS; day += DAY_MS) {
      if (have.has(day)) continue;
      const made = await this.partitions.ensure((work) => this.loop.exclusive(work, { wait: true }), day);
      if (made.length) this.logger.log(`Made partition ${made.join(', ')} of task_runs`);
    }
  }
}
