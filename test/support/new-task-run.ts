import { randomUUID } from 'node:crypto';
import { TaskRun } from '../../src/tasks/records/entities/task-run.entity';
import { TaskState } from '../../src/tasks/task-state';

/** A PENDING record with every column `TaskRunStore.insert` writes, for specs on a real database. */
export function newTaskRun(overrides: Partial<TaskRun> = {}): TaskRun {
  const now = new Date();
  return Object.assign(new TaskRun(), {
    id: randomUUID(),
    name: 'tasks.system.noop',
    queue: 'default',
    owner: null,
    args: {},
    state: TaskState.PENDING,
    attempts: 0,
    maxAttempts: 3,
    priority: 0,
    timeoutMs: null,
    runAt: now,
    createdAt: now,
    updatedAt: now,
    enqueuedAt: null,
    parentId: null,
    idempotencyKey: null,
    requestId: null,
    ...overrides,
  });
}
