import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A JSON document as stored in a jsonb column. */
export type Json = any;
import { TaskState } from '../../task-state';

export interface TaskError {
  type: string;
  message: string;
  stack?: string;
}

/**
 * The durable record of one task: the source of truth for its state and result. Its id is
 * also the BullMQ job id, so the record survives a Redis flush and can re-create the job.
 */
@Entity('task_runs')
export class TaskRun {
  @PrimaryColumn('uuid')
  id: string;

  @Column('varchar', { length: 200 })
  name: string;

  @Column('varchar', { length: 100 })
  queue: string;

  /** The API key that submitted the task; null for tasks the service schedules itself. */
  @Column('uuid', { nullable: true })
  owner: string | null;

  @Column('jsonb', { default: {} })
  args: Record<string, Json>;

  @Column('varchar', { length: 16 })
  state: TaskState;

  @Column('jsonb', { nullable: true })
  progress: Json;

  @Column('jsonb', { nullable: true })
  result: Json;

  @Column('jsonb', { nullable: true })
  error: TaskError | null;

  @Column('int', { default: 0 })
  attempts: number;

  @Column('int', { name: 'max_attempts' })
  maxAttempts: number;

  @Column('int', { default: 0 })
  priority: number;

  /** A per-submission timeout that overrides the task's declared one. */
  @Column('int', { name: 'timeout_ms', nullable: true })
  timeoutMs: number | null;

  /** When the task may first run (submit time plus its delay). */
  @Column('timestamptz', { name: 'run_at' })
  runAt: Date;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  /**
   * When the job reached the queue transport; null while the record waits in the outbox (the
   * transport was down at submit) for the enqueuer to queue it.
   */
  @Column('timestamptz', { name: 'enqueued_at', nullable: true })
  enqueuedAt: Date | null;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column('int', { name: 'runtime_ms', nullable: true })
  runtimeMs: number | null;

  @Column('varchar', { name: 'worker_id', length: 200, nullable: true })
  workerId: string | null;

  @Column('uuid', { name: 'parent_id', nullable: true })
  parentId: string | null;

  @Column('varchar', { name: 'idempotency_key', length: 200, nullable: true })
  idempotencyKey: string | null;

  @Column('varchar', { name: 'request_id', length: 100, nullable: true })
  requestId: string | null;
}
