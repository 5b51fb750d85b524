import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../common/database-unavailable';
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
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private unsubscribe?: () => void;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: TaskRunStore,
    private readonly enqueuer: TaskEnqueuer,
    private readonly stores: StoreHealth,
    private readonly queues: TaskQueues,
  ) {}

  onApplicationBootstrap(): void {
    // A queue without an 'error' listener prints every reconnect failure; report it once instead.
    for (const queue of this.queues.all()) queue.on('error', (error) => this.stores.markDown('transport', error));
    this.timer = setInterval(() => this.kick(), INTERVAL_MS).unref();
    // The moment the transport is back, start draining instead of waiting for the next tick.
    this.unsubscribe = this.stores.onChange((store, up) => {
      if (store === 'transport' && up) this.kick();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
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

  private kick(): void {
    if (this.stores.isDown('transport') || this.stores.isDown('database')) return;
    this.running ??= this.drain()
      .then(
        (queued) => {
          if (queued > 0) this.logger.log({ msg: 'Queued tasks from the outbox', count: queued });
        },
        (error) => {
          if (isDatabaseUnavailable(error)) this.stores.markDown('database', error);
          else this.logger.warn(`Outbox pass failed: ${error.message}`);
        },
      )
      .finally(() => (this.running = null));
  }

  private pass(): Promise<{ queued: number; more: boolean }> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOCK_KEY]);
      if (!locked) return { queued: 0, more: false };
      // Behind a backlog this process's submits do not add their own jobs: take every record then.
      const backlog = this.enqueuer.hasBacklog;
      const cutoff = new Date(Date.now() - (backlog ? 0 : MIN_AGE_MS));
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
  }
}
