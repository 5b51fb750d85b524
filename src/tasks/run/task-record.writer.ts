import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { isDatabaseUnavailable } from '../../common/database-unavailable';
import { AppConfig } from '../../config/app-config';
import { TaskError } from '../records/entities/task-run.entity';
import { WORKER_PATCH_SQL } from '../records/task-run.store';
import { StoreHealth } from '../store-health';
import { TaskState } from '../task-state';

/** The columns a worker changes as a task runs. Absent keys leave the column as it is. */
export interface TaskRunPatch {
  state?: TaskState;
  attempts?: number;
  workerId?: string;
  startedAt?: Date;
  finishedAt?: Date | null;
  runtimeMs?: number;
  progress?: unknown;
  result?: unknown;
  error?: TaskError | null;
  /** When the task may next run: set for a retry whose delay is known (Retry-After). */
  runAt?: Date;
  /** When the job reached the transport; only fills an empty column (the first mark wins). */
  enqueuedAt?: Date;
}

interface Pending {
  patch: TaskRunPatch;
  waiters: { resolve(): void; reject(error: Error): void }[];
}

const MAX_BATCH = 1000;
const INTERMEDIATE_DELAY_MS = 50;
const RETRY_FIRST_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 2000;
/** On shutdown, a batch that still cannot be written is given up after this long (its jobs re-run). */
const SHUTDOWN_RETRY_MS = 5000;

/**
 * Writes worker-side state changes to `task_runs` in batches. Changes to one task coalesce
 * (the newest value of each column wins) and one `UPDATE … FROM jsonb_array_elements`
 * ({@link WORKER_PATCH_SQL}, which says which late writes it refuses) commits a whole batch — group commit, so thousands of tasks per second cost a few statements.
 *
 * Durability is kept: {@link TaskRecordWriter.write} with `durable` resolves only after the
 * batch holding it has committed, and the worker awaits that before BullMQ completes the job.
 * Intermediate states (STARTED, progress) are not awaited: losing one to a crash only makes a
 * record look less far along, and the job re-runs anyway.
 *
 * A database outage does not fail a batch: it is retried with backoff (100 ms doubling to 2 s)
 * until it commits, and its waiters — jobs that BullMQ completes only afterwards, their locks
 * still renewed by the worker — simply wait. {@link StoreHealth} hears of the outage once and
 * of the recovery once. Only at shutdown does a batch give up, after a few seconds; its jobs
 * were never completed, so they run again elsewhere.
 */
@Injectable()
export class TaskRecordWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(TaskRecordWriter.name);
  private pending = new Map<string, Pending>();
  private flushing: Promise<void> | null = null;
  private immediate?: NodeJS.Immediate;
  private timer?: NodeJS.Timeout;

  private pool?: Pool;
  private giveUpAt = Infinity;
  private readonly committed = new Set<(changes: [string, TaskRunPatch][]) => void>();

  constructor(
    private readonly config: AppConfig,
    private readonly health: StoreHealth,
  ) {}

  write(id: string, patch: TaskRunPatch, durable: boolean): Promise<void> {
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { patch: {}, waiters: [] };
      this.pending.set(id, entry);
    }
    Object.assign(entry.patch, patch);
    const done = durable
      ? new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }))
      : Promise.resolve();
    this.schedule(durable);
    return done;
  }

  /**
   * Calls `listener` with each batch's changes once they are committed (an ingress mirrors
   * states elsewhere, e.g. Celery's result backend). It must be cheap and must not throw.
   */
  onCommitted(listener: (changes: [string, TaskRunPatch][]) => void): () => void {
    this.committed.add(listener);
    return () => this.committed.delete(listener);
  }

  /** Commits everything buffered so far. */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.flushOnce();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.giveUpAt = Date.now() + SHUTDOWN_RETRY_MS;
    await this.flush();
    await this.pool?.end();
  }

  /**
   * Runs a batch on the writer's own connection. Batches are written one at a time, so one
   * connection is enough, and it carries planner settings for this statement alone: with hash
   * or merge joins off, a batch always finds its rows through the primary key. Otherwise a
   * quickly growing table with stale statistics gets a sequential scan per batch.
   */
  protected async execute(sql: string, params: unknown[]): Promise<void> {
    if (!this.pool) {
      this.pool = new Pool({
        connectionString: this.config.databaseUrl,
        max: 1,
        connectionTimeoutMillis: 2000,
        options: '-c enable_hashjoin=off -c enable_mergejoin=off',
      });
      // An idle connection that drops (a database restart) is replaced on the next batch.
      this.pool.on('error', (error) => this.logger.warn(`Record writer connection lost: ${error.message}`));
    }
    await this.pool.query(sql, params);
  }

  private schedule(durable: boolean): void {
    if (this.flushing) return;
    if (durable) {
      if (this.immediate) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      // setImmediate lets every job finishing in this turn of the event loop join the batch.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        void this.flushOnce();
      });
    } else if (!this.immediate && !this.timer) {
      // Intermediate states wait a little: a short task's STARTED then merges into its final write.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flushOnce();
      }, INTERMEDIATE_DELAY_MS);
    }
  }

  private flushOnce(): Promise<void> {
    if (this.flushing || this.pending.size === 0) return this.flushing ?? Promise.resolve();
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.entries()].slice(0, MAX_BATCH);
    for (const [id] of batch) this.pending.delete(id);
    this.flushing = this.commit(batch).finally(() => {
      this.flushing = null;
      if (this.pending.size > 0) this.schedule([...this.pending.values()].some((p) => p.waiters.length > 0));
    });
    return this.flushing;
  }

  private async commit(batch: [string, Pending][]): Promise<void> {
    const docs = JSON.stringify(batch.map(([id, { patch }]) => ({ id, ...patch })));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.execute(WORKER_PATCH_SQL, [docs]);
        this.health.markUp('database');
        for (const [, { waiters }] of batch) waiters.forEach((w) => w.resolve());
        if (this.committed.size > 0) {
          const changes = batch.map(([id, { patch }]): [string, TaskRunPatch] => [id, patch]);
          this.committed.forEach((listener) => listener(changes));
        }
        return;
      } catch (error) {
        const outage = isDatabaseUnavailable(error);
        if (!outage || Date.now() >= this.giveUpAt) {
          this.logger.error(`Could not write ${batch.length} task records: ${error.message}`);
          for (const [, { waiters }] of batch) waiters.forEach((w) => w.reject(error));
          return;
        }
        // Logged once per outage by StoreHealth, not once per attempt.
        this.health.markDown('database', error);
        await sleep(Math.min(RETRY_FIRST_DELAY_MS * 2 ** attempt, RETRY_MAX_DELAY_MS));
      }
    }
  }
}
