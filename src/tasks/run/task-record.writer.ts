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
/**
 * Batches committing at once, each on its own connection. With one, a task finishing while a
 * batch commits waits for that commit and then its own; with two, its write starts at once.
 * Three measured no better than two (docs/benchmarks.md).
 */
const MAX_IN_FLIGHT = 2;
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
 * Up to {@link MAX_IN_FLIGHT} batches commit at once. A task's patches still apply in order: while
 * one of its patches is in a committing batch, a later one waits for the next batch after that
 * commit (otherwise a STARTED could land after its SUCCESS, which the statement would then refuse).
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
  /** Batches being committed, and the tasks they hold: those tasks' later patches wait. */
  private readonly flights = new Set<Promise<void>>();
  private readonly committing = new Set<string>();
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
    while (this.pending.size > 0 || this.flights.size > 0) {
      this.flushOnce();
      // With nothing in flight, flushOnce has started a batch, so this never spins.
      await Promise.race(this.flights);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.giveUpAt = Date.now() + SHUTDOWN_RETRY_MS;
    await this.flush();
    await this.pool?.end();
  }

  /**
   * Runs a batch on one of the writer's own connections (one per batch in flight). They carry
   * planner settings for this statement alone: with hash or merge joins off, a batch always finds
   * its rows through the primary key. Otherwise a quickly growing table with stale statistics
   * gets a sequential scan per batch.
   */
  protected async execute(sql: string, params: unknown[]): Promise<void> {
    if (!this.pool) {
      this.pool = new Pool({
        connectionString: this.config.databaseUrl,
        max: MAX_IN_FLIGHT,
        connectionTimeoutMillis: 2000,
        options: '-c enable_hashjoin=off -c enable_mergejoin=off',
      });
      // An idle connection that drops (a database restart) is replaced on the next batch.
      this.pool.on('error', (error) => this.logger.warn(`Record writer connection lost: ${error.message}`));
    }
    // A named statement (the writer runs this one statement only): each connection plans it once.
    // Planning an UPDATE of task_runs costs about 5 ms once the table has its dozen daily
    // partitions, more than the batch's own work.
    await this.pool.query({ name: 'task-runs-worker-patch', text: sql, values: params });
  }

  private schedule(durable: boolean): void {
    // When every slot is busy, the batch that commits first schedules the next one.
    if (this.flights.size >= MAX_IN_FLIGHT) return;
    if (durable) {
      if (this.immediate) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      // setImmediate lets every job finishing in this turn of the event loop join the batch.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flushOnce();
      });
    } else if (!this.immediate && !this.timer) {
      // Intermediate states wait a little: a short task's STARTED then merges into its final write.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushOnce();
      }, INTERMEDIATE_DELAY_MS);
    }
  }

  /** Starts a batch of the pending tasks that have no patch committing, if a slot is free. */
  private flushOnce(): void {
    if (this.flights.size >= MAX_IN_FLIGHT || this.pending.size === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch: [string, Pending][] = [];
    for (const entry of this.pending) {
      if (this.committing.has(entry[0])) continue;
      batch.push(entry);
      if (batch.length === MAX_BATCH) break;
    }
    if (batch.length === 0) return;
    for (const [id] of batch) {
      this.pending.delete(id);
      this.committing.add(id);
    }
    const flight: Promise<void> = this.commit(batch).finally(() => {
      for (const [id] of batch) this.committing.delete(id);
      this.flights.delete(flight);
      if (this.pending.size > 0) this.schedule([...this.pending.values()].some((p) => p.waiters.length > 0));
    });
    this.flights.add(flight);
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
