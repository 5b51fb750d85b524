import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { defineTask } from '../tasks/task-definition';
import { IsCalendarDate } from '../common/calendar-date';
import { QueueName } from '../tasks/queue-names';

export class CollectStatsArgs {
  /** Defaults to STATS_COLLECT_INTERVAL_MINUTES. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1440)
  intervalMinutes?: number;

  /** End of the window (exclusive); defaults to now. The scheduler passes the slot boundary. */
  @IsOptional()
  @IsISO8601({ strict: true })
  windowEnd?: string;
}

export class DailyReportArgs {
  @ApiPropertyOptional({ example: '2026-11-27', description: 'A calendar day in TZ; defaults to yesterday' })
  @IsOptional()
  @IsCalendarDate()
  date?: string;
}

/** Snapshots task counts by name and state over the last interval, and every queue's depth. */
export const CollectStatsTask = defineTask({
  name: 'tasks.stats.collect',
  celery: 'collect(interval_minutes=None, window_end=None)',
  queue: QueueName.DEFAULT,
  description: 'Snapshots task counts by name/state for the last interval and queue depths',
  payload: CollectStatsArgs,
  retry: { attempts: 2, backoffMs: 5000 },
  timeoutMs: 60_000,
});

/** Computes and stores one calendar day's per-task totals (re-running replaces the day's report). */
export const DailyReportTask = defineTask({
  name: 'tasks.stats.daily_report',
  celery: 'daily_report(date=None)',
  queue: QueueName.DEFAULT,
  description: "Computes a day's per-task totals and runtime percentiles in TZ; replaces that day's report",
  payload: DailyReportArgs,
  retry: { attempts: 3, backoffMs: 10_000 },
  timeoutMs: 5 * 60_000,
});
