import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { SingletonLoop } from '../../database/singleton-loop';
import { TaskRunStore } from './task-run.store';
import { StoreHealth } from '../store-health';
import { TaskQueues } from '../queues/task-queues.service';
import { TaskEnqueuer } from '../submit/task-enqueuer';
import { OPEN_STATES } from '../task-state';

// One reconciler at a time across replicas: a transaction-scoped advisory lock.
const LOCK_KEY = 0x7a5c_0001;
const BATCH = 500;

/**
 * Finds unfinished records whose job is gone from the transport (a Redis that lost its data, a
 * mark lost to a crash) and queues them again under the same id; records never queued are the
 * outbox's ({@link TaskOutbox}). Finished records past their retention are
 * {@link TaskRetention}'s.
 */
@Injectable()
export class TaskReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskReconciler.name);
  private readonly loop: SingletonLoop<number>;

  constructor(
    private readonly config: AppConfig,
    private readonly queues: TaskQueues,
    private readonly enqueuer: TaskEnqueuer,
    dataSource: DataSource,
    private readonly store: TaskRunStore,
    private readonly stores: StoreHealth,
  ) {
    this.loop = new SingletonLoop({
      name: 'Reconcile pass',
      logger: this.logger,
      intervalMs: config.env.RECONCILE_INTERVAL_MS,
      lock: { dataSource, key: LOCK_KEY },
      pass: () => this.reconcile(),
      // During an outage there is nothing to compare; the outbox and StoreHealth take over.
      due: () => !this.stores.isDown('database') && !this.stores.isDown('transport'),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass; returns how many tasks were queued again (0 when another replica holds the pass). */
  async reconcile(): Promise<number> {
    return (await this.loop.exclusive((manager) => this.requeueLost(manager))) ?? 0;
  }

  private async requeueLost(manager: EntityManager): Promise<number> {
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
  }
}
