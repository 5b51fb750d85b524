import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ApiCallKind = 'call' | 'webhook';

/** One outbound request of a `tasks.api.*` task, as last attempted. Keyed by the task id. */
@Entity('api_calls')
export class ApiCall {
  @PrimaryColumn('uuid', { name: 'task_id' })
  taskId: string;

  /** The API key that submitted the task; null for system tasks. */
  @Column('uuid', { nullable: true })
  owner: string | null;

  @Column('varchar', { length: 16 })
  kind: ApiCallKind;

  @Column('varchar', { length: 10 })
  method: string;

  @Column('text')
  url: string;

  /** The URL the stored response came from (`url`, or where the last redirect led), as in the task's result. */
  @Column('text', { name: 'final_url', nullable: true })
  finalUrl: string | null;

  @Column('varchar', { length: 100, nullable: true })
  event: string | null;

  /** As sent, with credential headers replaced by `[redacted]`. */
  @Column('jsonb', { name: 'request_headers', default: {} })
  requestHeaders: Record<string, string>;

  @Column('int', { name: 'status_code', nullable: true })
  statusCode: number | null;

  @Column('jsonb', { name: 'response_headers', nullable: true })
  responseHeaders: Record<string, string> | null;

  /** The first API_CALLS_STORED_BODY_BYTES of the body, as text. */
  @Column('text', { name: 'response_body', nullable: true })
  responseBody: string | null;

  @Column('int', { name: 'response_bytes', nullable: true })
  responseBytes: number | null;

  @Column('boolean', { name: 'response_truncated', default: false })
  responseTruncated: boolean;

  @Column('int', { name: 'duration_ms', nullable: true })
  durationMs: number | null;

  @Column('int', { default: 0 })
  attempts: number;

  @Column('jsonb', { nullable: true })
  error: { type: string; message: string } | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  /** Set when the task will not try again (success, permanent failure or last attempt). */
  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;
}
