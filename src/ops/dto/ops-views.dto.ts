import { ApiProperty } from '@nestjs/swagger';
import { QueueOverview } from '../../tasks/queues/queue-overview.service';
import { FinishedTotals } from '../../tasks/records/task-statistics.service';
import { StatsReport, TaskStatsRow } from '../task-stats.service';
import { WorkerView } from '../worker-directory.service';

// Response schemas of the operator routes, for the OpenAPI document and the clients generated
// from it; each implements the type its service returns, so the compiler keeps them in step.

export class QueueCountsDto {
  @ApiProperty() waiting: number;
  @ApiProperty() prioritized: number;
  @ApiProperty() delayed: number;
  @ApiProperty() active: number;
  @ApiProperty() completed: number;
  @ApiProperty() failed: number;
}

export class QueueOverviewDto implements QueueOverview {
  @ApiProperty({ example: 'email_tasks' })
  name: string;

  @ApiProperty()
  paused: boolean;

  @ApiProperty({ type: QueueCountsDto })
  counts: QueueCountsDto;

  @ApiProperty({ description: 'Seconds the oldest runnable job has waited; 0 when nothing waits' })
  oldestWaitingSeconds: number;
}

export class QueueListDto {
  @ApiProperty({ type: [QueueOverviewDto] })
  queues: QueueOverviewDto[];
}

export class PurgeResultDto {
  @ApiProperty()
  queue: string;

  @ApiProperty({ description: 'Jobs removed from the transport' })
  removed: number;

  @ApiProperty({ description: 'Their task records, marked REVOKED' })
  revoked: number;
}

export class WorkerQueueDto {
  @ApiProperty() name: string;
  @ApiProperty() concurrency: number;
}

export class WorkerTotalsDto {
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() retried: number;
  @ApiProperty() revoked: number;
}

export class ActiveTaskDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() queue: string;
  @ApiProperty() attempt: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty() runtimeSeconds: number;
}

export class WorkerViewDto implements WorkerView {
  @ApiProperty({ example: 'worker-7f9c#12' }) id: string;
  @ApiProperty() host: string;
  @ApiProperty() pid: number;
  @ApiProperty({ type: [WorkerQueueDto] }) queues: WorkerQueueDto[];
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ format: 'date-time' }) lastSeen: string;
  @ApiProperty({ type: WorkerTotalsDto }) totals: WorkerTotalsDto;
  @ApiProperty({ type: [ActiveTaskDto] }) active: ActiveTaskDto[];
}

export class WorkerListDto {
  @ApiProperty({ type: [WorkerViewDto] })
  workers: WorkerViewDto[];
}

export class FinishedTotalsDto implements FinishedTotals {
  @ApiProperty() queue: string;
  @ApiProperty() processed: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() revoked: number;
  @ApiProperty({ description: 'Extra attempts those tasks needed' }) retried: number;
  @ApiProperty({ type: Number, nullable: true }) runtimeP50Ms: number | null;
  @ApiProperty({ type: Number, nullable: true }) runtimeP95Ms: number | null;
}

export class TaskStatsRowDto extends FinishedTotalsDto implements TaskStatsRow {
  @ApiProperty({ example: 'tasks.email.send_email' }) task: string;
}

export class StatsReportDto implements StatsReport {
  @ApiProperty() windowMinutes: number;
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: [FinishedTotalsDto] }) queues: FinishedTotalsDto[];
  @ApiProperty({ type: [TaskStatsRowDto] }) tasks: TaskStatsRowDto[];
}
