import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { TaskContext } from '../../src/tasks/task-definition';

/** What a handler gets from the runner, for unit specs that call a domain service directly. */
export function specTaskContext<Args extends object = object>(
  overrides: Partial<TaskContext<Args>> = {},
): TaskContext<Args> & { progressReports: unknown[] } {
  const progressReports: unknown[] = [];
  return {
    taskId: randomUUID(),
    name: 'spec',
    queue: 'spec',
    args: {} as Args,
    attempt: 1,
    maxAttempts: 3,
    owner: null,
    signal: new AbortController().signal,
    progress: (value) => void progressReports.push(value),
    logger: new Logger('spec'),
    ...overrides,
    progressReports,
  };
}
