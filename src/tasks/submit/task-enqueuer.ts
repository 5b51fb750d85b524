import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { JobsOptions } from 'bullmq';
import { TaskRun } from '../records/entities/task-run.entity';
import { TaskRunStore } from '../records/task-run.store';
import { TaskQueues } from '../queues/task-queues.service';
import { TASK_BACKOFF, TaskRetryPolicies } from '../run/task-retry-policy';
import { StoreHealth } from '../store-health';
import { TaskJobData } from '../task-definition';
import { TaskRegistry } from '../task-registry.service';

/** How long a submit waits for the transport (plus 2 ms a job) before leaving its records to the outbox. */
export const ENQUEUE_TIMEOUT_MS = 1000;

/**
 * Puts the jobs of committed records on the transport, under the records' ids: for submission,
 * the outbox ({@link TaskOutbox}), the reconciler and retries. A transport that does not answer
 * within {@link ENQUEUE_TIMEOUT_MS} never fails the caller: the records are left to the outbox,
 * and this process's later submits queue behind them (the backlog) so each queue keeps
 * submission order.
 */
@Injectable()
export class TaskEnqueuer {
  private readonly logger = new Logger(TaskEnqueuer.name);
  /** Set while this process has records waiting in the outbox: new ones queue behind them. */
  private backlog = false;

  constructor(
    private readonly registry: TaskRegistry,
    private readonly queues: TaskQueues,
    private readonly store: TaskRunStore,
    private readonly stores: StoreHealth,
    private readonly policies: TaskRetryPolicies,
  ) {}

  /** True while this process's submits leave their records to the outbox (see {@link TaskOutbox}). */
  get hasBacklog(): boolean {
    return this.backlog;
  }

  /** Whether a new record may be queued at once: no backlog to wait behind and a transport believed up. */
  get queuesDirectly(): boolean {
    return !this.backlog && !this.stores.isDown('transport');
  }

  /** Lets submits queue their jobs directly again once the outbox has caught up. */
  outboxDrained(): void {
    this.backlog = false;
  }

  /**
   * Adds the jobs of `runs` (in their order, one `addBulk` per queue) within the enqueue
   * timeout; false, and the transport marked down, when it did not answer.
   */
  async enqueue(runs: TaskRun[]): Promise<boolean> {
    if (this.stores.isDown('transport')) return false;
    const byQueue = new Map<string, TaskRun[]>();
    for (const run of runs) byQueue.set(run.queue, [...(byQueue.get(run.queue) ?? []), run]);
    const adding = Promise.all(
      [...byQueue].map(([queue, items]) =>
        items.length === 1
          ? // A single add is one Redis round trip cheaper than a one-job addBulk (no MULTI).
            this.queues.get(queue).add(items[0].name, jobData(items[0]), this.jobOptions(items[0]))
          : this.queues
              .get(queue)
              .addBulk(items.map((r) => ({ name: r.name, data: jobData(r), opts: this.jobOptions(r) }))),
      ),
    );
    try {
      // A big batch gets a little longer: a slow addBulk must not pass for a dead transport.
      await withTimeout(adding, ENQUEUE_TIMEOUT_MS + runs.length * 2);
      this.stores.markUp('transport');
      return true;
    } catch (error) {
      // A late add still lands under the record's id; the outbox's add of the same id is then a no-op.
      adding.catch(() => undefined);
      this.stores.markDown('transport', error);
      return false;
    }
  }

  /**
   * Queues the job of an existing record again (retry, reconciler). A transport that is down
   * leaves the record to the outbox instead of failing.
   */
  async requeue(run: TaskRun): Promise<void> {
    if (!this.registry.get(run.name)) throw new NotFoundException(`Task ${run.name} is no longer registered`);
    if (await this.enqueue([run])) return;
    await this.stores.database(() => this.store.unmarkQueued(run.id));
    run.enqueuedAt = null;
  }

  /**
   * Leaves `runs` to the outbox. `marked`: their records say queued, so the mark is cleared
   * (a job that ran meanwhile keeps it: the worker marks a started record queued again). If the
   * clear cannot be written, the records stay marked and the reconciler re-queues them.
   */
  async keepInOutbox(runs: TaskRun[], marked: boolean): Promise<TaskRun[]> {
    if (runs.length === 0) return runs;
    this.backlog = true;
    this.logger.warn({ msg: 'Transport unavailable: task(s) kept in the outbox', count: runs.length });
    for (const run of runs) run.enqueuedAt = null;
    if (marked) {
      await this.stores
        .database(() => this.store.clearQueuedMark(runs.map((r) => r.id)))
        .catch((error) => this.logger.warn(`Could not clear the queued mark: ${error.message}`));
    }
    return runs;
  }

  private jobOptions(run: TaskRun): JobsOptions {
    const policy = this.policies.policyFor(run.name);
    const delayMs = run.runAt.getTime() - Date.now();
    return {
      jobId: run.id,
      attempts: policy.attempts,
      // The runner plans each retry's delay (exponential with jitter, or a RetryAfterError's) and records it.
      backoff: { type: TASK_BACKOFF, delay: policy.backoffMs },
      delay: delayMs > 0 ? delayMs : undefined,
      priority: run.priority > 0 ? run.priority : undefined,
    };
  }
}

function jobData(run: TaskRun): TaskJobData {
  return { args: run.args, owner: run.owner, timeoutMs: run.timeoutMs ?? undefined };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`The queue transport did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
