import { HttpStatus } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TaskRun } from '../records/entities/task-run.entity';
import { toTaskView } from '../records/task-view';

/**
 * Writes the answer of a submit: 202 for a new task, 200 for the earlier task an
 * Idempotency-Key matched, with `Location` at `location` (the task's own URL unless the domain
 * has a better one). Returns the task's view, the body.
 */
export function acceptedTask(
  response: FastifyReply,
  { run, created }: { run: TaskRun; created: boolean },
  location = `/tasks/${run.id}`,
): ReturnType<typeof toTaskView> {
  response.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK).header('Location', location);
  return toTaskView(run);
}
