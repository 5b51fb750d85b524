import { Logger, SetMetadata, Type } from '@nestjs/common';

/** How a task retries: BullMQ attempts with exponential backoff plus jitter. */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before the first retry; each next one doubles. */
  backoffMs: number;
}

/**
 * A task, declared once: its Celery-style name, payload class (class-validator), retry
 * policy and timeout. Declare it with {@link defineTask} in the domain's `*.tasks.ts` and bind
 * exactly one method to it with {@link TaskHandler}.
 */
export interface TaskDefinition<Args extends object = object> {
  name: string;
  /** The queue it runs on unless an operator's `TASK_ROUTES` entry sends it elsewhere. */
  queue: string;
  /** One line for `GET /tasks/registered`. */
  description: string;
  payload: Type<Args>;
  /** Skip the whitelist: any properties pass (only for tasks that echo what they get). */
  acceptsAnyArgs?: boolean;
  retry: RetryPolicy;
  timeoutMs: number;
  /**
   * Default true: on timeout or cancel the run is abandoned at once. False for handlers that
   * commit an effect (a ledger write): their signal still fires, to be checked at safe points,
   * but the runner waits for them and records how they really ended.
   */
  abortable?: boolean;
  /**
   * Argument paths that hold secrets (`secret`, `headers.authorization`; names match without
   * regard to case). Task views show them as `[redacted]`; the job still carries them.
   */
  sensitiveArgs?: string[];
  /**
   * The Python call shape Celery callers use, e.g. `process_file(file_id)`: the Celery ingress
   * maps positional arguments onto these payload fields in order (snake_case names are
   * accepted for camelCase fields). Unset: keyword arguments only.
   */
  celery?: string;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1000 };
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

const declared = new Map<string, TaskDefinition>();

/** Declares a task. Names are unique: declaring one twice is a programming error. */
export function defineTask<Args extends object>(
  definition: Pick<TaskDefinition<Args>, 'name' | 'queue' | 'description' | 'payload'> &
    Partial<
      Pick<TaskDefinition<Args>, 'retry' | 'timeoutMs' | 'acceptsAnyArgs' | 'abortable' | 'sensitiveArgs' | 'celery'>
    >,
): TaskDefinition<Args> {
  if (declared.has(definition.name)) throw new Error(`Task ${definition.name} is declared twice`);
  const full = { retry: DEFAULT_RETRY, timeoutMs: DEFAULT_TIMEOUT_MS, ...definition };
  declared.set(full.name, full as TaskDefinition);
  return full;
}

/** The declaration of a task name, if any (views use it to hide sensitive arguments). */
export function declaredTask(name: string): TaskDefinition | undefined {
  return declared.get(name);
}

/** Every task declared so far (the registry checks each has exactly one handler). */
export function declaredTasks(): TaskDefinition[] {
  return [...declared.values()];
}

/** What a handler gets besides its validated arguments. */
export interface TaskContext<Args extends object = object> {
  taskId: string;
  name: string;
  queue: string;
  args: Args;
  /** 1 for the first attempt. */
  attempt: number;
  /** Attempts this run may make in all; `attempt === maxAttempts` is the last chance. */
  maxAttempts: number;
  /** The key that submitted the task, or null for system tasks. */
  owner: string | null;
  /** Aborts on timeout and on cancel; pass it to every I/O call that takes one. */
  signal: AbortSignal;
  /** Reports progress (a percentage or a small object); throttled before it reaches the record. */
  progress(value: number | Record<string, unknown>): void;
  logger: Logger;
}

/** What a BullMQ job carries: the arguments and who submitted them (handlers enforce ownership). */
export interface TaskJobData {
  args: Record<string, unknown>;
  owner: string | null;
  /** Overrides the task's declared timeout for this submission. */
  timeoutMs?: number;
}

export const TASK_HANDLER = 'tasks:handler';

/** Binds the decorated method as the one handler of `definition`. */
export const TaskHandler = (definition: TaskDefinition<any>) => SetMetadata(TASK_HANDLER, definition);
