import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { TaskRunStore } from './task-run.store';
import { StoreHealth } from '../store-health';
import { TaskQueues } from '../queues/task-queues.service';
import { ROLLUP_RETENTION_DAYS } from './task-statistics.service';
import { TaskEnqueuer } from '../submit/task-enqueuer';
import { OPEN_STATES } from '../task-state';

// One reconciler at a time across replicas: a transaction-scoped advisory lock.
const LOCK_KEY = 0x7a5c_0001;
const BATCH = 500;
const EXPIRE_BATCH = 5000;
// One retention batch at a time across replicas (a transaction-scoped advisory lock per batch):
// replicas take turns instead of fighting over the same rows' locks.
const RETENTION_LOCK_KEY = 0x7a5c_0003;

/**
 * Finds unfinished records whose job is gone from the transport (a Redis that lost its data, a
 * mark lost to a crash) and queues them again under the same id; records never queued are the
 * outbox's ({@link TaskOutbox}). Also deletes
 * finished records past their retention (Celery's `result_expires`).
 */
@Injectable()
export class TaskReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskReconciler.name);
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly queues: TaskQueues,
    private readonly enqueuer: TaskEnqueuer,
    private readonly dataSource: DataSource,
    private readonly store: TaskRunStore,
    private readonly stores: StoreHealth,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // During an outage there is nothing to compare; the outbox and StoreHealth take over.
      if (this.stores.isDown('database') || this.stores.isDown('transport')) return;
      this.running ??= this.reconcile()
        .then(
          () => undefined,
          (error) => this.logger.warn(`Reconcile pass failed: ${error.message}`),
        )
        .finally(() => (this.running = null));
    }, this.config.env.RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many tasks were queued again. */
  async reconcile(): Promise<number> {
    const requeued = await this.requeueLost();
    await this.expire();
    return requeued;
  }

  private requeueLost(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOCK_KEY]);
      if (!locked) return 0;
      const cutoff = new Date(Date.now() - this.config.env.RECONCILE_MIN_AGE_MS);
      // Records still in the outbox (never queued) are the enqueuer's, not lost.
      const candidates = await this.store.findStaleOpen(manager, cutoff, BATCH);
      let requeued = 0;
      for (const run of candidates) {
        const job = await this.queues.get(run.queue).getJob(run.id);
        if (job) {
          // BullMQ gave up on a job whose record is still open (it stalled too often, or its
          // failure could not be recorded): the task is not finished, so it runs again.
          if ((await job.getState()) === 'failed') {
            await job.retry('failed');
            requeued++;
            this.logger.warn({ msg: 'Task had a failed job but an open record; retried it', taskId: run.id });
          }
          continue;
        }
        // Read again: the task may have finished (and its job been removed) since the scan.
        if (!OPEN_STATES.includes(await this.store.stateOf(manager, run.id))) continue;
        await this.enqueuer.requeue(run);
        requeued++;
        this.logger.warn({
          msg: 'Task had no job in the queue; queued it again',
          taskId: run.id,
          task: run.name,
          queue: run.queue,
          state: run.state,
        });
      }
      // Touch what was checked so the next pass moves on to other records.
      if (candidates.length > 0)
        await this.store.touchOpen(
          manager,
          candidates.map((r) => r.id),
        );
      return requeued;
    });
  }

  /**
   * Deletes finished records past retention, in short transactions of a few thousand rows. Domain records that are a task's
   * result (API call records, e-mail messages and notifications) reference `task_runs` with
   * ON DELETE CASCADE and go with it.
   */
  async expire(): Promise<void> {
    const cutoff = new Date(Date.now() - this.config.env.RESULT_EXPIRES_SECONDS * 1000);
    let total = 0;
    for (;;) {
      const deleted = await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK_KEY]);
        return this.store.deleteFinishedBefore(manager, cutoff, EXPIRE_BATCH);
      });
      total += deleted;
      if (deleted < EXPIRE_BATCH) break;
    }
    // The rollups behind GET /stats outlive the records, not forever.
    await this.store.deleteRollupsOlderThan(1, ROLLUP_RETENTION_DAYS.minutely);
    await this.store.deleteRollupsOlderThan(60, ROLLUP_RETENTION_DAYS.hourly);
    if (total > 0) this.logger.log(`Deleted ${total} task records older than the retention period`);
  }
}
