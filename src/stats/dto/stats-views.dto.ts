import { ApiProperty } from '@nestjs/swagger';

// Response schemas of GET /stats/daily and GET /stats/snapshots (stats.controller.ts), which return
// the daily_reports / stats_snapshots rows, for the OpenAPI document and the clients generated from it.

export class SubmittedTotalsDto {
  @ApiProperty()
  submitted: number;

  @ApiProperty()
  succeeded: number;

  @ApiProperty()
  failed: number;

  @ApiProperty()
  revoked: number;

  @ApiProperty({ description: 'Still PENDING, STARTED or RETRY' })
  open: number;

  @ApiProperty({ description: 'Extra attempts those tasks needed' })
  retries: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Median runtime of the tasks that succeeded, ms' })
  runtimeP50Ms: number | null;

  @ApiProperty({ type: Number, nullable: true, description: '95th percentile runtime of the tasks that succeeded, ms' })
  runtimeP95Ms: number | null;
}

export class TaskNameTotalsDto extends SubmittedTotalsDto {
  @ApiProperty({ example: 'tasks.email.send_email' })
  name: string;
}

export class DailyReportDto {
  @ApiProperty({ format: 'date', example: '2026-01-31' })
  date: string;

  @ApiProperty({ example: 'Europe/Berlin' })
  timezone: string;

  @ApiProperty({ type: String, format: 'date-time' })
  windowStart: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  windowEnd: Date;

  @ApiProperty({ type: SubmittedTotalsDto })
  totals: SubmittedTotalsDto;

  @ApiProperty({ type: [TaskNameTotalsDto] })
  tasks: TaskNameTotalsDto[];

  @ApiProperty({ format: 'uuid', description: 'The task that made this version of the report' })
  taskId: string;

  @ApiProperty({ type: String, format: 'date-time' })
  generatedAt: Date;
}

export class TaskStateCountDto {
  @ApiProperty()
  name: string;

  @ApiProperty()
  state: string;

  @ApiProperty()
  count: number;
}

export class StatsSnapshotDto {
  @ApiProperty({ format: 'uuid', description: "The collect task's id" })
  taskId: string;

  @ApiProperty({ type: String, format: 'date-time' })
  windowStart: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  windowEnd: Date;

  @ApiProperty({ type: [TaskStateCountDto], description: 'Tasks created in the window, by name and state' })
  taskCounts: TaskStateCountDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { type: 'number' } },
    description: 'Per queue: waiting, active, delayed, prioritized, waiting-children, failed jobs',
  })
  queueDepths: Record<string, Record<string, number>>;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;
}
