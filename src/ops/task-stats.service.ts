import { Injectable } from '@nestjs/common';
import { FinishedTotals, TaskStatistics } from '../tasks/records/task-statistics.service';

export type TaskStatsRow = FinishedTotals & { task: string };

export interface StatsReport {
  windowMinutes: number;
  from: string;
  to: string;
  queues: FinishedTotals[];
  tasks: TaskStatsRow[];
}

/**
 * Celery's `inspect stats`, computed from the task records rather than per-process counters,
 * so every api replica gives the same answer whichever worker ran the tasks.
 */
@Injectable()
export class TaskStatsService {
  constructor(private readonly statistics: TaskStatistics) {}

  async report(windowMinutes: number): Promise<StatsReport> {
    const { window, byQueue, byTask } = await this.statistics.finished(windowMinutes);
    return {
      windowMinutes,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      queues: byQueue,
      tasks: byTask.map(({ name, ...totals }) => ({ task: name, ...totals })),
    };
  }
}
