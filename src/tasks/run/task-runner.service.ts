import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { hostname } from 'node:os';
import { isDatabaseUnavailable } from '../../common/database-unavailable';
import { validatePayload } from '../../common/field-errors';
import { ActiveTasks, TaskRevokedError, TaskTimeoutError } from './active-tasks.service';
import { TaskError } from '../records/entities/task-run.entity';
import { TaskContext, TaskJobData } from '../task-definition';
import { TaskEvents } from '../task-events';
import { TaskRecordWriter } from './task-record.writer';
import { TaskRegistry } from '../task-registry.service';
import { RetryAfterError } from '../retry-after.error';
import { PLANNED_DELAY, retryDelayMs } from './task-retry-policy';
import { TaskState } from '../task-state';
import { StoreHealth } from '../store-health';

const PROGRESS_THROTTLE_MS = 250;
/** A task that failed because the database is down runs again after this long, without using an attempt. */
export const OUTAGE_RETRY_MS = 2000;

/**
 * Runs one BullMQ job as a task: records STARTED, validates the payload again, calls the
 * handler with a context whose signal aborts on timeout or cancel, records the outcome and
 * rethrows failures so BullMQ applies the retry policy. Each retry's delay is planned here
 * (exponential backoff with jitter, or what a {@link RetryAfterError} asks for) and recorded as
 * the record's `runAt`; the worker's backoff strategy hands the same delay to BullMQ. A failure
 * caused by a database outage uses no attempt: the job is delayed and runs again once it can.
 */
@Injectable()
export class TaskRunner {
  readonly workerId = `${hostname()}#${process.pid}`;
  private readonly logger = new Logger(TaskRunner.name);

  constructor(
    private readonly registry: TaskRegistry,
    private readonly writer: TaskRecordWriter,
    private readonly active: ActiveTasks,
    private readonly events: TaskEvents,
    private readonly stores: StoreHealth,
  ) {}

  /** Runs `job`; `token` is the worker's lock token (needed to delay a job through an outage). */
  async run(job: Job, queue: string, bullSignal?: AbortSignal, token?: string): Promise<unknown> {
    const id = job.id as string;
    const attempt = job.attemptsMade + 1;
    const task = this.registry.get(job.name);
    const started = Date.now();
    void this.writer.write(
      id,
      {
        state: TaskState.STARTED,
        attempts: attempt,
        workerId: this.workerId,
        startedAt: new Date(started),
        finishedAt: null,
        // A job that runs was queued, even if its outbox mark has not landed (a late add after an outage).
        enqueuedAt: new Date(started),
      },
      false,
    );
    this.logger.log({ msg: 'Task started', taskId: id, task: job.name, queue, attempt, outcome: 'STARTED' });
    if (!task)
      return this.fail(job, attempt, started, new UnrecoverableError(`No handler is registered for task ${job.name}`));
    const raw = (job.data as TaskJobData).args ?? {};
    // A task that accepts any arguments has nothing to check: skip the class-transformer round trip.
    const { value: args, errors } = task.definition.acceptsAnyArgs
      ? { value: raw, errors: [] }
      : validatePayload(task.definition.payload, raw);
    if (errors.length > 0) {
      return this.fail(
        job,
        attempt,
        started,
        new UnrecoverableError(`Invalid payload: ${errors.map((e) => e.message).join('; ')}`),
      );
    }

    const controller = new AbortController();
    const timeoutMs = (job.data as TaskJobData).timeoutMs ?? task.definition.timeoutMs;
    const timer = setTimeout(() => controller.abort(new TaskTimeoutError(timeoutMs)), timeoutMs);
    const onBullAbort = () => controller.abort(new TaskRevokedError());
    bullSignal?.addEventListener('abort', onBullAbort);
    this.active.add({ id, name: job.name, queue, attempt, startedAt: new Date(started), controller });
    try {
      const running = task.handler(args, this.context(job, queue, attempt, args, controller.signal));
      const result = await (task.definition.abortable === false ? running : raceAbort(running, controller.signal));
      const runtimeMs = Date.now() - started;
      await this.writer.write(
        id,
        {
          state: TaskState.SUCCESS,
          result: result ?? null,
          error: null,
          finishedAt: new Date(),
          runtimeMs,
          progress: 100,
        },
        true,
      );
      this.logger.log({
        msg: 'Task succeeded',
        taskId: id,
        task: job.name,
        queue,
        attempt,
        durationMs: runtimeMs,
        outcome: 'SUCCESS',
      });
      this.events.emitAttemptFinished({
        taskId: id,
        name: job.name,
        queue,
        attempt,
        state: TaskState.SUCCESS,
        runtimeMs,
      });
      return result;
    } catch (error) {
      // Whatever a handler throws once its signal fired, the cause is the timeout or the cancel.
      return this.fail(job, attempt, started, controller.signal.aborted ? controller.signal.reason : error, token);
    } finally {
      clearTimeout(timer);
      bullSignal?.removeEventListener('abort', onBullAbort);
      this.active.remove(id);
    }
  }

  private context(job: Job, queue: string, attempt: number, args: object, signal: AbortSignal): TaskContext {
    const id = job.id as string;
    let last = 0;
    return {
      taskId: id,
      name: job.name,
      queue,
      args,
      attempt,
      maxAttempts: job.opts.attempts ?? 1,
      owner: (job.data as TaskJobData).owner ?? null,
      signal,
      logger: this.logger,
      progress: (value) => {
        const now = Date.now();
        if (now - last < PROGRESS_THROTTLE_MS) return;
        last = now;
        void this.writer.write(id, { progress: value }, false);
        void job.updateProgress(value).catch(() => undefined);
      },
    };
  }

  /** Records the failure (RETRY, FAILURE or REVOKED) and rethrows so BullMQ sees it. */
  private async fail(job: Job, attempt: number, started: number, error: Error, token?: string): Promise<never> {
    const revoked = error instanceof TaskRevokedError;
    if (!revoked && token && (isDatabaseUnavailable(error) || this.stores.isDown('database')))
      return this.delayThroughOutage(job, attempt, error, token);
    if (token && error instanceof RetryAfterError && error.skipsAttempt)
      return this.delayWithoutAttempt(job, attempt, error, token, error.delayMs, describeError(error));
    const permanent = revoked || error instanceof UnrecoverableError || error.name === 'UnrecoverableError';
    const maxAttempts = job.opts.attempts ?? 1;
    const state = revoked
      ? TaskState.REVOKED
      : permanent || attempt >= maxAttempts
        ? TaskState.FAILURE
        : TaskState.RETRY;
    const runtimeMs = Date.now() - started;
    const final = state !== TaskState.RETRY;
    let runAt: Date | undefined;
    if (!final) {
      const backoffMs = (job.opts.backoff as { delay?: number } | undefined)?.delay ?? 0;
      const delayMs = retryDelayMs(error, attempt, backoffMs);
      runAt = new Date(Date.now() + delayMs);
      // The worker's backoff strategy reads it, so BullMQ waits exactly what the record says.
      Object.assign(error, { [PLANNED_DELAY]: delayMs });
    }
    await this.writer.write(
      job.id as string,
      { state, error: describeError(error), runtimeMs, finishedAt: final ? new Date() : null, runAt },
      true,
    );
    const fields = {
      taskId: job.id,
      task: job.name,
      queue: job.queueName,
      attempt,
      durationMs: runtimeMs,
      outcome: state,
      error: error.message,
    };
    this.events.emitAttemptFinished({
      taskId: job.id as string,
      name: job.name,
      queue: job.queueName,
      attempt,
      state,
      runtimeMs,
    });
    if (state === TaskState.RETRY)
      this.logger.warn({ msg: 'Task failed and will retry', ...fields, retryAt: runAt?.toISOString() });
    else this.logger.error({ msg: 'Task failed', ...fields });
    // A revoked task must not be retried by BullMQ either.
    throw revoked ? new UnrecoverableError(error.message) : error;
  }

  /**
   * The database is down: this failure says nothing about the task. The job goes back to
   * BullMQ delayed (no attempt used, no worker slot held) and the record says RETRY once the
   * writer can reach the database again.
   */
  private delayThroughOutage(job: Job, attempt: number, error: Error, token: string): Promise<never> {
    const recorded = { type: 'DatabaseUnavailable', message: `The database was unreachable: ${error.message}` };
    return this.delayWithoutAttempt(job, attempt, error, token, OUTAGE_RETRY_MS, recorded);
  }

  /**
   * Puts the job back in BullMQ, delayed by `delayMs`, without using an attempt (a moved job's
   * `attemptsMade` does not grow) and without holding a worker slot; the record says RETRY.
   */
  private async delayWithoutAttempt(
    job: Job,
    attempt: number,
    error: Error,
    token: string,
    delayMs: number,
    recorded: TaskError,
  ): Promise<never> {
    const runAt = new Date(Date.now() + delayMs);
    void this.writer.write(
      job.id as string,
      { state: TaskState.RETRY, error: recorded, finishedAt: null, runAt },
      false,
    );
    this.logger.warn({
      msg: 'Task could not run now; it runs again later without using an attempt',
      taskId: job.id,
      task: job.name,
      queue: job.queueName,
      attempt,
      outcome: TaskState.RETRY,
      reason: recorded.message,
    });
    try {
      await job.moveToDelayed(runAt.getTime(), token);
    } catch (moveError) {
      // The job could not be put back (its lock is gone): BullMQ's own retry is the fallback.
      this.logger.warn({ msg: 'Could not delay the job', taskId: job.id, error: moveError.message });
      throw error;
    }
    throw new DelayedError();
  }
}

export function describeError(error: Error): TaskError {
  return {
    type: error.name || error.constructor?.name || 'Error',
    message: error.message ?? String(error),
    stack: error.stack,
  };
}

/** Settles with the handler, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
