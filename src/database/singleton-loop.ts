import { Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface SingletonLoopOptions<T> {
  /** Names the pass in the log line of a failure ("Outbox pass" → "Outbox pass failed: …"). */
  name: string;
  logger: Logger;
  intervalMs: number;
  /** One pass. Read at each run, so a spec can replace the method it calls. */
  pass: () => Promise<T>;
  /** Asked at each tick: false skips that tick (a store known to be down has nothing to give). */
  due?: () => boolean;
  /** Hears the result of each pass that succeeded. */
  done?: (result: T) => void;
  /** Hears a failed pass first; true when it dealt with the error, which is then not logged. */
  failed?: (error: Error) => boolean;
  /** For {@link SingletonLoop.exclusive}: the database and key of a transaction-scoped advisory lock. */
  lock?: { dataSource: DataSource; key: number };
}

/**
 * The skeleton of a background pass that must not overlap itself: an unref'd interval timer,
 * at most one pass in flight in this process (a tick or a {@link run} during a pass joins it),
 * each failure logged once, and a stop that waits for the running pass. With a `lock`,
 * {@link exclusive} runs a step in a transaction that holds an advisory lock, so one replica at
 * a time does it; the lock goes with the transaction, even when the connection dies.
 */
export class SingletonLoop<T> {
  private timer?: NodeJS.Timeout;
  private running: Promise<T | undefined> | null = null;
  private stopped = false;

  constructor(private readonly options: SingletonLoopOptions<T>) {}

  /** Starts the timer (once). */
  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => this.kick(), this.options.intervalMs).unref();
  }

  /** Starts a pass now unless the loop is stopped, the pass is not due, or one is running already. */
  kick(): void {
    if (this.stopped || this.options.due?.() === false) return;
    void this.run();
  }

  /**
   * Runs a pass now, or joins the one running; resolves with its result, or undefined when it
   * failed (the failure is logged, never thrown).
   */
  run(): Promise<T | undefined> {
    this.running ??= this.options
      .pass()
      .then(
        (result) => {
          this.options.done?.(result);
          return result;
        },
        (error) => {
          if (!this.options.failed?.(error)) this.options.logger.warn(`${this.options.name} failed: ${error.message}`);
          return undefined;
        },
      )
      .finally(() => (this.running = null));
    return this.running;
  }

  /** Stops the timer and waits for the running pass, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Runs `work` in a transaction holding the loop's advisory lock. Without `wait` it returns
   * null at once when another replica holds the lock; with `wait` it queues for the lock, so
   * replicas take turns instead of skipping.
   */
  exclusive<R>(work: (manager: EntityManager) => Promise<R>, { wait = false } = {}): Promise<R | null> {
    const { lock } = this.options;
    if (!lock) throw new Error(`${this.options.name} has no advisory lock`);
    return lock.dataSource.transaction(async (manager) => {
      if (wait) {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [lock.key]);
      } else {
        const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [lock.key]);
        if (!locked) return null;
      }
      return work(manager);
    });
  }
}
