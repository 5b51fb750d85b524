import { Injectable } from '@nestjs/common';
import { TaskContext, TaskHandler } from '../tasks/task-definition';
import { DailyReportService } from './daily-report.service';
import { StatsAccess } from './stats-access.service';
import { StatsCollector } from './stats-collector.service';
import { CollectStatsArgs, CollectStatsTask, DailyReportArgs, DailyReportTask } from './stats.tasks';

@Injectable()
export class StatsHandlers {
  constructor(
    private readonly access: StatsAccess,
    private readonly collector: StatsCollector,
    private readonly reports: DailyReportService,
  ) {}

  @TaskHandler(CollectStatsTask)
  async collect(args: CollectStatsArgs, ctx: TaskContext<CollectStatsArgs>) {
    await this.access.assertOperator(ctx.owner);
    return this.collector.collect(args, ctx.taskId);
  }

  @TaskHandler(DailyReportTask)
  async dailyReport(args: DailyReportArgs, ctx: TaskContext<DailyReportArgs>) {
    await this.access.assertOperator(ctx.owner);
    return this.reports.generate(args.date ?? this.reports.defaultDate(), ctx.taskId);
  }
}
