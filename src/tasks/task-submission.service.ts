import { HttpException, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { JobsOptions } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, Repository } from 'typeorm';
import { FieldError, fieldErrorsException, validatePayload } from '../common/field-errors';
import { TaskRun } from './entities/task-run.entity';
import { TaskJobData } from './task-definition';
import { TaskQueues } from './task-queues.service';
import { RegisteredTask, TaskRegistry } from './task-registry.service';
import { TaskState } from './task-state';

/** A request to run a task, from HTTP or from another part of the service. */
export interface SubmitRequest {
  name: string;
  args?: unknown;
  /** The API key id that owns the task; null for tasks the service starts itself. */
  owner: string | null;
  delayMs?: number;
  priority?: number;
  /** Overrides the task's declared timeout for this run. */
  timeoutMs?: number;
  idempotencyKey?: string;
  parentId?: string;
  requestId?: string;
}

interface Prepared {
  run: TaskRun;
  task: RegisteredTask;
}

/**
 * Validates and submits tasks: the record is committed first, then the job is queued with the
 * record's id as its job id. A record whose job never reached the queue is found and queued by
 * the reconciler, so nothing acknowledged is lost.
 */
@Injectable()
export class TaskSubmissionService {
  private readonly logger = new Logger(TaskSubmissionService.name);

  constructor(
    private readonly registry: TaskRegistry,
    private readonly queues: TaskQueues,
    private readonly dataSource: DataSource,
    @InjectRepository(TaskRun) private readonly runs: Repository<TaskRun>,
  ) {}

  /** Submits one task. `created` is false when an idempotency key matched an existing task. */
  async submit(request: SubmitRequest): Promise<{ run: TaskRun; created: boolean }> {
    const prepared = this.prepare(request, '');
    // ON CONFLICT DO NOTHING: two requests racing with one idempotency key create one task.
    const inserted = await insertRuns(this.dataSource, [prepared.run]);
    if (inserted === 0 && request.idempotencyKey) {
      const owner = prepared.run.owner === null ? IsNull() : prepared.run.owner;
      const existing = await this.runs.findOneByOrFail({ owner, idempotencyKey: request.idempotencyKey });
      return { run: existing, created: false };
    }
    await this.enqueue([prepared]);
    return { run: prepared.run, created: true };
  }

  /**
   * Submits many tasks at once: every payload is validated first (one 400 lists every bad
   * field as `tasks.<index>.…`), then one transaction writes the records and one `addBulk` per
   * queue enqueues the jobs. Idempotency keys are not supported here.
   */
  async submitMany(requests: SubmitRequest[]): Promise<TaskRun[]> {
    const errors: FieldError[] = [];
    const prepared: Prepared[] = [];
    requests.forEach((request, index) => {
      try {
        prepared.push(this.prepare(request, `tasks.${index}.`));
      } catch (error) {
        errors.push(...fieldErrorsOf(error, `tasks.${index}`));
      }
    });
    if (errors.length > 0) throw fieldErrorsException(errors);
    // One statement is one transaction: all the records are written, or none.
    await insertRuns(
      this.dataSource,
      prepared.map((p) => p.run),
    );
    await this.enqueue(prepared);
    return prepared.map((p) => p.run);
  }

  /** Queues the job of an existing record again (retry, reconciler). */
  async requeue(run: TaskRun): Promise<void> {
    const task = this.registry.get(run.name);
    if (!task) throw new NotFoundException(`Task ${run.name} is no longer registered`);
    const delayMs = Math.max(0, run.runAt.getTime() - Date.now());
    await this.queues.get(run.queue).add(run.name, jobData(run), jobOptions(run, task, delayMs));
  }

  private prepare(request: SubmitRequest, fieldPrefix: string): Prepared {
    const task = this.registry.get(request.name);
    if (!task) {
      const close = this.registry.closeNames(request.name);
      const hint = close.length > 0 ? ` Did you mean ${close.join(', ')}?` : ' GET /tasks/registered lists every task.';
      throw new NotFoundException({
        statusCode: 404,
        error: 'Not Found',
        message: `No task is registered as ${request.name}.${hint}`,
        field: `${fieldPrefix}name`,
        suggestions: close,
      });
    }
    const { value, errors } = validatePayload(
      task.definition.payload,
      request.args,
      `${fieldPrefix}args`,
      !task.definition.acceptsAnyArgs,
    );
    if (errors.length > 0) throw fieldErrorsException(errors);
    const now = new Date();
    const run = Object.assign(new TaskRun(), {
      id: randomUUID(),
      name: request.name,
      queue: task.queue,
      owner: request.owner,
      // The validated payload: the worker sees exactly what was accepted.
      args: { ...value } as Record<string, unknown>,
      state: TaskState.PENDING,
      progress: null,
      result: null,
      error: null,
      attempts: 0,
      maxAttempts: task.definition.retry.attempts,
      priority: request.priority ?? 0,
      timeoutMs: request.timeoutMs ?? null,
      runAt: new Date(now.getTime() + (request.delayMs ?? 0)),
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
      runtimeMs: null,
      workerId: null,
      parentId: request.parentId ?? null,
      idempotencyKey: request.idempotencyKey ?? null,
      requestId: request.requestId ?? null,
    });
    return { run, task };
  }

  private async enqueue(prepared: Prepared[]): Promise<void> {
    const byQueue = new Map<string, Prepared[]>();
    for (const p of prepared) byQueue.set(p.run.queue, [...(byQueue.get(p.run.queue) ?? []), p]);
    const toJob = ({ run, task }: Prepared) => ({
      name: run.name,
      data: jobData(run),
      opts: jobOptions(run, task, run.runAt.getTime() - run.createdAt.getTime()),
    });
    try {
      if (prepared.length === 1) {
        // A single add is one Redis round trip cheaper than a one-job addBulk (no MULTI).
        const job = toJob(prepared[0]);
        await this.queues.get(prepared[0].run.queue).add(job.name, job.data, job.opts);
      } else {
        await Promise.all([...byQueue].map(([queue, items]) => this.queues.get(queue).addBulk(items.map(toJob))));
      }
    } catch (error) {
      this.logger.error(`Could not queue ${prepared.length} task(s): ${error.message}`);
      await this.runs
        .update(
          prepared.map((p) => p.run.id),
          {
            state: TaskState.FAILURE,
            error: { type: 'EnqueueError', message: `The task could not be queued: ${error.message}` },
            finishedAt: new Date(),
            updatedAt: new Date(),
          },
        )
        .catch(() => undefined);
      throw new ServiceUnavailableException('The queue transport is unavailable; the task was not queued. Try again.');
    }
  }
}

/**
 * Inserts records in one statement with a single JSON parameter (TypeORM's multi-row insert
 * builder spends more CPU binding parameters than the database spends writing). Rows that hit
 * a unique key (an idempotency key already used) are skipped; returns how many were written.
 */
async function insertRuns(db: DataSource, runs: TaskRun[]): Promise<number> {
  const rows: unknown[] = await db.query(INSERT_SQL, [JSON.stringify(runs)]);
  return rows.length;
}

const INSERT_SQL = `
  INSERT INTO task_runs (id, name, queue, owner, args, state, attempts, max_attempts, priority, timeout_ms,
                         run_at, created_at, updated_at, parent_id, idempotency_key, request_id)
  SELECT id, name, queue, owner, args, state, attempts, "maxAttempts", priority, "timeoutMs",
         "runAt", "createdAt", "updatedAt", "parentId", "idempotencyKey", "requestId"
  FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, name varchar, queue varchar, owner uuid, args jsonb, state varchar,
       attempts int, "maxAttempts" int, priority int, "timeoutMs" int, "runAt" timestamptz, "createdAt" timestamptz,
       "updatedAt" timestamptz, "parentId" uuid, "idempotencyKey" varchar, "requestId" varchar)
  ON CONFLICT DO NOTHING
  RETURNING id`;

function jobData(run: TaskRun): TaskJobData {
  return { args: run.args, owner: run.owner, timeoutMs: run.timeoutMs ?? undefined };
}

function jobOptions(run: TaskRun, task: RegisteredTask, delayMs: number): JobsOptions {
  return {
    jobId: run.id,
    attempts: task.definition.retry.attempts,
    backoff: { type: 'exponential', delay: task.definition.retry.backoffMs, jitter: 0.5 },
    delay: delayMs > 0 ? delayMs : undefined,
    priority: run.priority > 0 ? run.priority : undefined,
  };
}

function fieldErrorsOf(error: unknown, prefix: string): FieldError[] {
  if (!(error instanceof HttpException)) throw error;
  const body = error.getResponse() as { errors?: FieldError[]; message?: string; field?: string };
  if (body.errors) return body.errors;
  return [{ field: body.field ?? prefix, rule: 'registered', message: String(body.message) }];
}
