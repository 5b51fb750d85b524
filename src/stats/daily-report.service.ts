import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, DataSource, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { TaskStatistics } from '../tasks/records/task-statistics.service';
import { TaskContext } from '../tasks/task-definition';
import { addDays, localDate } from '../common/calendar-date';
import { DailyReport } from './entities/daily-report.entity';
import { StatsAccess } from './stats-access.service';
import { DailyReportArgs } from './stats.tasks';

// The day's bounds are computed by PostgreSQL from the local date and the zone name, so DST
// and odd offsets are its problem, not ours.
const DAY_BOUNDS_SQL = `SELECT ($1::date::timestamp AT TIME ZONE $2) AS day_start, (($1::date + 1)::timestamp AT TIME ZONE $2) AS day_end`;

/** `tasks.stats.daily_report`: per-task totals of the tasks created on one calendar day in TZ. */
@Injectable()
export class DailyReportService {
  readonly timeZone: string;

  constructor(
    config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly statistics: TaskStatistics,
    private readonly access: StatsAccess,
    @InjectRepository(DailyReport) private readonly reports: Repository<DailyReport>,
  ) {
    this.timeZone = config.env.TZ;
  }

  /** Yesterday in TZ: the last complete day. */
  defaultDate(now = new Date()): string {
    return addDays(localDate(now, this.timeZone), -1);
  }

  /** The task: an operator's report of `args.date` (default yesterday in TZ). */
  async run(args: DailyReportArgs, ctx: TaskContext<DailyReportArgs>): Promise<DailyReport> {
    await this.access.assertOperator(ctx.owner);
    return this.generate(args.date ?? this.defaultDate(), ctx.taskId);
  }

  /** Computes the day's report and stores it, replacing an earlier one for the same day. */
  async generate(date: string, taskId: string): Promise<DailyReport> {
    const [bounds]: { day_start: Date; day_end: Date }[] = await this.dataSource.query(DAY_BOUNDS_SQL, [
      date,
      this.timeZone,
    ]);
    const { overall, byName } = await this.statistics.submitted({ from: bounds.day_start, to: bounds.day_end });
    const report = Object.assign(new DailyReport(), {
      date,
      timezone: this.timeZone,
      windowStart: bounds.day_start,
      windowEnd: bounds.day_end,
      totals: overall,
      tasks: byName,
      taskId,
      generatedAt: new Date(),
    });
    await this.reports.upsert(report, ['date']);
    return report;
  }

  /** Reports from `from` to `to` inclusive, newest first. */
  list(from: string, to: string): Promise<DailyReport[]> {
    return this.reports.find({ where: { date: Between(from, to) }, order: { date: 'DESC' } });
  }
}
