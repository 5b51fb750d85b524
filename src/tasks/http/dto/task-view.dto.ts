import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TaskState } from '../../task-state';

// The response schema of toTaskView (task-view.ts), for the OpenAPI document and the clients
// generated from it; task-view.dto.spec.ts keeps the two in step.

export class TaskErrorDto {
  @ApiProperty({ example: 'SmtpRejectedError' })
  type: string;

  @ApiProperty({ example: '550 mailbox unavailable' })
  message: string;
}

export class TaskViewDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'tasks.email.send_email' })
  name: string;

  @ApiProperty({ example: 'email_tasks' })
  queue: string;

  @ApiProperty({ enum: TaskState })
  state: TaskState;

  @ApiProperty({ description: 'False while the task waits in the outbox for the queue transport' })
  queued: boolean;

  @ApiProperty({ minimum: 0, maximum: 100 })
  progress: number;

  @ApiPropertyOptional({ description: "The handler's result (any JSON) once SUCCESS", nullable: true })
  result: unknown;

  @ApiProperty({ type: TaskErrorDto, nullable: true })
  error: TaskErrorDto | null;

  @ApiProperty()
  attempts: number;

  @ApiProperty()
  maxAttempts: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The arguments, with the secrets the task declares replaced by [redacted]',
  })
  args: Record<string, unknown>;

  @ApiProperty()
  priority: number;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  parentId: string | null;

  @ApiProperty({ nullable: true, type: String })
  workerId: string | null;

  @ApiProperty({ nullable: true, type: String })
  requestId: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  runAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: Date | null;

  @ApiProperty({ type: Number, nullable: true })
  runtimeMs: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { self: '/tasks/…', events: '/tasks/…/events', cancel: '/tasks/…/cancel', retry: '/tasks/…/retry' },
  })
  links: Record<string, string>;
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskViewDto] })
  items: TaskViewDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  nextCursor: string | null;
}

export class TaskBatchDto {
  @ApiProperty()
  count: number;

  @ApiProperty({ type: [TaskViewDto] })
  tasks: TaskViewDto[];
}

export class RegisteredTaskDto {
  @ApiProperty({ example: 'tasks.file.export_file' })
  name: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ example: 'export' })
  queue: string;

  @ApiProperty({ example: 'declared', description: '"declared", or the TASK_ROUTES pattern that routed it' })
  queueSource: string;

  @ApiProperty()
  maxAttempts: number;

  @ApiProperty()
  backoffMs: number;

  @ApiProperty()
  timeoutMs: number;
}
