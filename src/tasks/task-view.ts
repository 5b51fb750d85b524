import { TaskRun } from './entities/task-run.entity';

/** What the API returns for a task: the record, minus internals, plus links. */
export function toTaskView(run: TaskRun) {
  return {
    id: run.id,
    name: run.name,
    queue: run.queue,
    state: run.state,
    progress: run.progress,
    result: run.result,
    error: run.error ? { type: run.error.type, message: run.error.message } : null,
    attempts: run.attempts,
    maxAttempts: run.maxAttempts,
    args: run.args,
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

export type TaskView = ReturnType<typeof toTaskView>;
