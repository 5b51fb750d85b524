import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, DataSource, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { addDays, localDate } from './calendar-date';
import { DailyReport, TaskTotals } from './entities/daily-report.entity';

interface TotalsRow {
  name: string | null;
  submitted: number;
  succeeded: number;
  failed: number;
  revoked: number;
  open: number;
  retries: number;
  runtime_p50_ms: number | null;
  runtime_p95_ms: number | null;
}

// The day's bounds are computed by PostgreSQL from the local date and the zone name, so DST
// and odd offsets are its problem, not ours. GROUPING SETS adds the all-tasks row (name NULL).
const DAILY_TOTALS_SQL = `
  WITH day AS (
    SELECT ($1::date::timestamp AT TIME ZONE $2) AS window_start,
           (($1::date + 1)::timestamp AT TIME ZONE $2) AS window_end
  )
  SELECT t.name,
         count(*)::int AS submitted,
         (count(*) FILTER (WHERE t.state = 'SUCCESS'))::int AS succeeded,
         (count(*) FILTER (WHERE t.state = 'FAILURE'))::int AS failed,
         (count(*) FILTER (WHERE t.state = 'REVOKED'))::int AS revoked,
         (count(*) FILTER (WHERE t.state IN ('PENDING', 'STARTED', 'RETRY')))::int AS open,
         coalesce(sum(greatest(t.attempts - 1, 0)), 0)::int AS retries,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY t.runtime_ms) FILTER (WHERE t.state = 'SUCCESS') AS runtime_p50_ms,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY t.runtime_ms) FILTER (WHERE t.state = 'SUCCESS') AS runtime_p95_ms
    FROM task_runs t, day
   WHERE t.created_at >= day.window_start AND t.created_at < day.window_end
   GROUP BY GROUPING SETS ((t.name), ())
   ORDER BY t.name NULLS FIRST`;

const DAY_BOUNDS_SQL = `SELECT ($1::date::timestamp AT TIME ZONE $2) AS day_start, (($1::date + 1)::timestamp AT TIME ZONE $2) AS day_end`;

const EMPTY: TaskTotals = {
  submitted: 0,
  succeeded: 0,
  failed: 0,
  revoked: 0,
  open: 0,
  retries: 0,
  runtimeP50Ms: null,
  runtimeP95Ms: null,
};

/** `tasks.stats.daily_report`: per-task totals of the tasks created on one calendar day in TZ. */
@Injectable()
export class DailyReportService {
  readonly timeZone: string;

  constructor(
    config: AppConfig,
    private readonly dataSource: DataSource,
    @InjectRepository(DailyReport) private readonly reports: Repository<DailyReport>,
  ) {
    this.timeZone = config.env.TZ;
  }

  /** Yesterday in TZ: the last complete day. */
  defaultDate(now = new Date()): string {
    return addDays(localDate(now, this.timeZone), -1);
  }

  /** Computes the day's report and stores it, replacing an earlier one for the same day. */
  async generate(date: string, taskId: string): Promise<DailyReport> {
    const rows: TotalsRow[] = await this.dataSource.query(DAILY_TOTALS_SQL, [date, this.timeZone]);
    const [bounds]: { day_start: Date; day_end: Date }[] = await this.dataSource.query(DAY_BOUNDS_SQL, [
      date,
      this.timeZone,
    ]);
    const all = rows.find((r) => r.name === null);
    const report = Object.assign(new DailyReport(), {
      date,
      timezone: this.timeZone,
      windowStart: bounds.day_start,
      windowEnd: bounds.day_end,
      totals: all ? totalsOf(all) : EMPTY,
      tasks: rows.filter((r) => r.name !== null).map((r) => ({ name: r.name as string, ...totalsOf(r) })),
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

function totalsOf(row: TotalsRow): TaskTotals {
  return {
    submitted: row.submitted,
    succeeded: row.succeeded,
    failed: row.failed,
    revoked: row.revoked,
    open: row.open,
    retries: row.retries,
    runtimeP50Ms: row.runtime_p50_ms === null ? null : round(row.runtime_p50_ms),
    runtimeP95Ms: row.runtime_p95_ms === null ? null : round(row.runtime_p95_ms),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
