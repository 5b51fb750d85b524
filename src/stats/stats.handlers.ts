import { Injectable } from '@nestjs/common';
import { TaskContext, TaskHandler } from '../tasks/task-definition';
import { DailyReportService } from './daily-report.service';
import { StatsCollector } from './stats-collector.service';
import { CollectStatsArgs, CollectStatsTask, DailyReportArgs, DailyReportTask } from './stats.tasks';

/** The stats tasks; the work, and the operator check, are in the services. */
@Injectable()
export class StatsHandlers {
  constructor(
    private readonly collector: StatsCollector,
    private readonly reports: DailyReportService,
  ) {}

  @TaskHandler(CollectStatsTask)
  collect(args: CollectStatsArgs, ctx: TaskContext<CollectStatsArgs>) {
    return this.collector.collect(args, ctx);
  }

  @TaskHandler(DailyReportTask)
  dailyReport(args: DailyReportArgs, ctx: TaskContext<DailyReportArgs>) {
    return this.reports.run(args, ctx);
  }
}
