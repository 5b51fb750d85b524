import { HttpException, Injectable, NotFoundException } from '@nestjs/common';
import { uuidV7 } from '../../common/uuid-v7';
import { CallerIdempotencyKey, idempotencyKeyReused, sameJson } from '../../common/idempotency-key';
import { FieldError, fieldErrorsException, validatePayload } from '../../common/field-errors';
import { TaskRun } from '../records/entities/task-run.entity';
import { TaskRunStore } from '../records/task-run.store';
import { GroupCommit } from '../../common/group-commit';
import { TaskEnqueuer } from './task-enqueuer';
import { StoreHealth } from '../store-health';
import { TaskDefinition } from '../task-definition';
import { TaskRegistry } from '../task-registry.service';
import { TaskRetryPolicies } from '../run/task-retry-policy';
import { TaskState } from '../task-state';

/** A request to run a task, from HTTP or from another part of the service. */
export interface SubmitRequest {
  /** The record id to use (an ingress that must keep its caller's id); a new UUIDv7 otherwise. */
  id?: string;
  name: string;
  args?: unknown;
  /** The API key id that owns the task; null for tasks the service starts itself. */
  owner: string | null;
  delayMs?: number;
  priority?: number;
  /** Overrides the task's declared timeout for this run. */
  timeoutMs?: number;
  idempotencyKey?: string;
  /**
   * Set when the key is the caller's: reusing it with another payload (name, args, priority,
   * timeout) is a 422 naming it. The service's own keys (schedulers) leave it unset.
   */
  callerKey?: CallerIdempotencyKey;
  parentId?: string;
  requestId?: string;
}

/** A submit's settings besides the task and its payload. */
export type SubmitOptions = Omit<SubmitRequest, 'name' | 'args'>;

/**
 * A typed request: `args` must have `task`'s payload type, so a domain's payload mistake is a
 * compile error. For {@link TaskSubmissionService.submitMany} and anywhere a request is passed on.
 */
export function taskRequest<Args extends object>(
  task: TaskDefinition<Args>,
  args: Args,
  options: SubmitOptions,
): SubmitRequest {
  return { ...options, name: task.name, args };
}

/**
 * Single submits written at once, at most: the rest wait and go together in the next write
 * (one INSERT, one add per queue), which is what lets one api process take thousands of
 * `POST /tasks` a second. Below the database pool, so reads still find a connection.
 */
const SUBMIT_WRITES_IN_FLIGHT = 4;
/** The most single submits one write carries (a batch request carries up to 1,000). */
const SUBMIT_GROUP_MAX = 500;

/**
 * Validates and submits tasks as a transactional outbox: the records are committed first
 * (`PENDING`), then their jobs are queued under the records' ids. While the transport is up the
 * records are inserted already marked queued (`enqueued_at` set), so a submit costs one write.
 * The jobs go through {@link TaskEnqueuer}: a transport that is down, or slower than its
 * timeout, does not fail the submit: the mark is cleared (or, once the transport is known to be
 * down, never set) and {@link TaskOutbox} queues the records, in submission order, once the
 * transport answers. A
 * crash between the insert and the add leaves a queued record without a job, which the
 * reconciler re-queues. Only a database that cannot take the records fails the submit (503
 * naming the database, from the global database error filter).
 */
@Injectable()
export class TaskSubmissionService {
  /** Concurrent single submits share one write; each learns whether its record was inserted. */
  private readonly singles = new GroupCommit<TaskRun, boolean>(
    async (runs) => {
      const inserted = new Set(await this.commitAndEnqueue(runs));
      return runs.map((run) => inserted.has(run));
    },
    SUBMIT_WRITES_IN_FLIGHT,
    SUBMIT_GROUP_MAX,
  );

  constructor(
    private readonly registry: TaskRegistry,
    private readonly enqueuer: TaskEnqueuer,
    private readonly store: TaskRunStore,
    private readonly stores: StoreHealth,
    private readonly policies: TaskRetryPolicies,
  ) {}

  /** Submits one task of a declared definition; `args` is checked against its payload type. */
  submit<Args extends object>(
    task: TaskDefinition<Args>,
    args: Args,
    options: SubmitOptions,
  ): Promise<{ run: TaskRun; created: boolean }> {
    return this.submitByName(taskRequest(task, args, options));
  }

  /**
   * Submits one task named by the caller (`POST /tasks`, the Celery ingress): the name is checked
   * against the registry at run time. `created` is false when an idempotency key matched an existing task.
   * Validation errors are this request's own; the write is shared with the single submits
   * running at the same time (group commit), in one INSERT and one add per queue.
   */
  async submitByName(request: SubmitRequest): Promise<{ run: TaskRun; created: boolean }> {
    const [run] = this.prepare([request], (_, field) => field);
    const inserted = await this.singles.add(run);
    // ON CONFLICT DO NOTHING: two requests racing with one idempotency key (in one group or not) create one task.
    if (!inserted && request.idempotencyKey) {
      const key = request.idempotencyKey;
      const existing = await this.stores.database(() => this.store.findByIdempotencyKey(run.owner, key));
      if (request.callerKey && !samePayload(existing, run)) throw idempotencyKeyReused(request.callerKey);
      return { run: existing, created: false };
    }
    return { run, created: true };
  }

  /**
   * Submits many tasks at once: every payload is validated first (one 400 lists every bad
   * field as `tasks.<index>.…`), then one statement writes all the records and one `addBulk`
   * per queue enqueues the jobs. Idempotency keys are not supported here.
   */
  async submitMany(requests: SubmitRequest[]): Promise<TaskRun[]> {
    const runs = this.prepare(requests, (index, field) => `tasks.${index}.${field}`);
    await this.commitAndEnqueue(runs);
    return runs;
  }

  private async commitAndEnqueue(runs: TaskRun[]): Promise<TaskRun[]> {
    // Behind a backlog a new record waits its turn, so each queue keeps submission order.
    const direct = this.enqueuer.queuesDirectly;
    const now = new Date();
    for (const run of runs) run.enqueuedAt = direct ? now : null;
    const inserted = await this.stores.database(() => this.store.insert(runs));
    if (inserted.length === 0 || !direct) return this.enqueuer.keepInOutbox(inserted, false);
    if (await this.enqueuer.enqueue(inserted)) return inserted;
    return this.enqueuer.keepInOutbox(inserted, true);
  }

  /** Validates every request (one 400 lists every bad field) and builds its record. */
  private prepare(requests: SubmitRequest[], field: (index: number, name: string) => string): TaskRun[] {
    const errors: FieldError[] = [];
    const runs: TaskRun[] = [];
    const now = new Date();
    requests.forEach((request, index) => {
      try {
        runs.push(this.prepareOne(request, (name) => field(index, name), now));
      } catch (error) {
        errors.push(...fieldErrorsOf(error, field(index, '').replace(/\.$/, '')));
      }
    });
    if (errors.length === 1 && requests.length === 1 && errors[0].rule === 'registered') {
      throw this.notRegistered(requests[0].name, field(0, 'name'));
    }
    if (errors.length > 0) throw fieldErrorsException(errors);
    return runs;
  }

  private prepareOne(request: SubmitRequest, field: (name: string) => string, now: Date): TaskRun {
    const task = this.registry.get(request.name);
    if (!task) throw this.notRegistered(request.name, field('name'));
    const { value, errors } = validatePayload(
      task.definition.payload,
      request.args,
      field('args'),
      !task.definition.acceptsAnyArgs,
    );
    if (errors.length > 0) throw fieldErrorsException(errors);
    return Object.assign(new TaskRun(), {
      id: request.id ?? uuidV7(),
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
      maxAttempts: this.policies.policyFor(request.name).attempts,
      priority: request.priority ?? 0,
      timeoutMs: request.timeoutMs ?? null,
      runAt: new Date(now.getTime() + (request.delayMs ?? 0)),
      createdAt: now,
      updatedAt: now,
      enqueuedAt: null,
      startedAt: null,
      finishedAt: null,
      runtimeMs: null,
      workerId: null,
      parentId: request.parentId ?? null,
      idempotencyKey: request.idempotencyKey ?? null,
      requestId: request.requestId ?? null,
    });
  }

  private notRegistered(name: string, field: string): NotFoundException {
    const close = this.registry.closeNames(name);
    const hint = close.length > 0 ? ` Did you mean ${close.join(', ')}?` : ' GET /tasks/registered lists every task.';
    return new NotFoundException({
      statusCode: 404,
      error: 'Not Found',
      message: `No task is registered as ${name}.${hint}`,
      field,
      suggestions: close,
    });
  }
}

/** Whether a repeated request under one idempotency key asks for what the first one did. */
function samePayload(existing: TaskRun, submitted: TaskRun): boolean {
  return (
    existing.name === submitted.name &&
    existing.priority === submitted.priority &&
    existing.timeoutMs === submitted.timeoutMs &&
    sameJson(existing.args, submitted.args)
  );
}

function fieldErrorsOf(error: unknown, prefix: string): FieldError[] {
  if (!(error instanceof HttpException)) throw error;
  const body = error.getResponse() as { errors?: FieldError[]; message?: string; field?: string };
  if (body.errors) return body.errors;
  return [{ field: body.field ?? prefix, rule: 'registered', message: String(body.message) }];
}
