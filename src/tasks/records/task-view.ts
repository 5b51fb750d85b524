import { Json, TaskRun } from './entities/task-run.entity';
import { declaredTask } from '../task-definition';

/** What the API returns for a task: the record, minus internals, plus links. */
export function toTaskView(run: TaskRun) {
  return {
    id: run.id,
    name: run.name,
    queue: run.queue,
    state: run.state,
    /** False while the task waits in the outbox for the queue transport (it is recorded and will run). */
    queued: run.enqueuedAt !== null,
    progress: run.progress,
    result: run.result,
    error: run.error ? { type: run.error.type, message: run.error.message } : null,
    attempts: run.attempts,
    maxAttempts: run.maxAttempts,
    args: redactArgs(run.name, run.args),
    priority: run.priority,
    parentId: run.parentId,
    workerId: run.workerId,
    requestId: run.requestId,
    runAt: run.runAt,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    runtimeMs: run.runtimeMs,
    links: {
      self: `/tasks/${run.id}`,
      events: `/tasks/${run.id}/events`,
      cancel: `/tasks/${run.id}/cancel`,
      retry: `/tasks/${run.id}/retry`,
    },
  };
}

export const REDACTED = '[redacted]';

/** The task's arguments with its declared `sensitiveArgs` replaced by `[redacted]`. */
export function redactArgs(name: string, args: Record<string, Json>): Record<string, Json> {
  return redactPaths(args, declaredTask(name)?.sensitiveArgs ?? []);
}

/** `args` with every path in `paths` (`secret`, `headers.authorization`; any case) replaced by `[redacted]`. */
export function redactPaths(args: Record<string, Json>, paths: readonly string[]): Record<string, Json> {
  if (!paths.length || !args || typeof args !== 'object') return args;
  const copy = structuredClone(args);
  for (const path of paths) redactPath(copy, path.toLowerCase().split('.'));
  return copy;
}

function redactPath(target: Record<string, Json>, [head, ...rest]: string[]): void {
  for (const key of Object.keys(target)) {
    if (key.toLowerCase() !== head) continue;
    if (rest.length === 0) target[key] = REDACTED;
    else if (target[key] && typeof target[key] === 'object') redactPath(target[key], rest);
  }
}
