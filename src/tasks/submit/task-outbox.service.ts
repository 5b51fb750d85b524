import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../common/database-unavailable';
import { SingletonLoop } from '../../database/singleton-loop';
import { TaskRunStore } from '../records/task-run.store';
import { StoreHealth } from '../store-health';
import { TaskQueues } from '../queues/task-queues.service';
import { TaskEnqueuer } from './task-enqueuer';

// One enqueuer at a time across replicas (a transaction-scoped advisory lock), so each queue
// receives the outbox in submission order.
const LOCK_KEY = 0x7a5c_0002;
const BATCH = 500;
const INTERVAL_MS = 500;
/** A record younger than this may still be on its way to the queue from its own submit. */
const MIN_AGE_MS = 1000;

/**
 * The enqueuer of the transactional outbox: queues records committed while the transport was
 * unreachable (`enqueued_at` null), oldest first, as soon as it answers again, then marks them
 * queued. The job id is the record id, so a job that did reach the queue (a submit that timed
 * out late, a mark lost to a crash) is not added twice. Rows are locked while their jobs are
 * added, so a cancel waits for the job it has to remove.
 */
@Injectable()
export class TaskOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskOutbox.name);
  private readonly loop: SingletonLoop<number>;
  private unsubscribe?: () => void;

  constructor(
    dataSource: DataSource,
    private readonly store: TaskRunStore,
    private readonly enqueuer: TaskEnqueuer,
    private readonly stores: StoreHealth,
    private readonly queues: TaskQueues,
  ) {
    this.loop = new SingletonLoop({
      name: 'Outbox pass',
      logger: this.logger,
      intervalMs: INTERVAL_MS,
      lock: { dataSource, key: LOCK_KEY },
      pass: () => this.drain(),
      due: () => !this.stores.isDown('transport') && !this.stores.isDown('database'),
      done: (queued) => {
        if (queued > 0) this.logger.log({ msg: 'Queued tasks from the outbox', count: queued });
      },
      failed: (error) => {
        if (!isDatabaseUnavailable(error)) return false;
        this.stores.markDown('database', error);
        return true;
      },
    });
  }

  onApplicationBootstrap(): void {
    // A queue without an 'error' listener prints every reconnect failure; report it once instead.
    for (const queue of this.queues.all()) queue.on('error', (error) => this.stores.markDown('transport', error));
    this.loop.start();
    // The moment the transport is back, start draining instead of waiting for the next tick.
    this.unsubscribe = this.stores.onChange((store, up) => {
      if (store === 'transport' && up) this.loop.kick();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
  }

  /** Drains the outbox until it is empty or the transport fails; returns how many jobs were queued. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { queued, more } = await this.pass();
      total += queued;
      if (!more) return total;
    }
  }

  private async pass(): Promise<{ queued: number; more: boolean }> {
    const outcome = await this.loop.exclusive(async (manager) => {
      // Behind a backlog this process's submits do not add their own jobs: take every record then.
      const cutoff = new Date(Date.now() - (this.enqueuer.hasBacklog ? 0 : MIN_AGE_MS));
      const runs = await this.store.lockOutboxBatch(manager, cutoff, BATCH);
      if (runs.length > 0) {
        if (!(await this.enqueuer.enqueue(runs))) return { queued: 0, more: false };
        await this.store.markQueued(
          runs.map((r) => r.id),
          manager,
        );
      }
      const more = runs.length === BATCH;
      if (!more) this.enqueuer.outboxDrained();
      return { queued: runs.length, more };
    });
    // Another replica holds the lock: it is draining.
    return outcome ?? { queued: 0, more: false };
  }
}
