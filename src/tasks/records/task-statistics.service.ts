import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { histogramPercentile } from './runtime-histogram';

/**
 * How long the rollups behind GET /stats are kept, in days: hourly rows as far as its window
 * reaches (7 days) plus a day; per-minute rows only as far as a window that starts on the
 * minute (a day at most) plus a day.
 */
export const ROLLUP_RETENTION_DAYS = { hourly: 8, minutely: 2 };

/** A half-open interval of time, `[from, to)`. */
export interface TimeWindow {
  from: Date;
  to: Date;
}

/** Outcome counts and runtimes of the tasks submitted in a window. */
export interface SubmittedTotals {
  submitted: number;
  succeeded: number;
  failed: number;
  revoked: number;
  /** Still PENDING, STARTED or RETRY. */
  open: number;
  /** Extra attempts those tasks needed (one task retried twice counts 2). */
  retries: number;
  /** Percentiles of the runtime of the tasks that succeeded, in ms (null when none did). */
  runtimeP50Ms: number | null;
  runtimeP95Ms: number | null;
}

/** Outcome counts and runtimes of the tasks that reached a final state in a window. */
export interface FinishedTotals {
  queue: string;
  processed: number;
  succeeded: number;
  failed: number;
  revoked: number;
  /** Extra attempts those tasks needed (one task retried twice counts 2). */
  retried: number;
  /** Percentiles of the final attempt's runtime over every finished task, in ms (from a histogram). */
  runtimeP50Ms: number | null;
  runtimeP95Ms: number | null;
}

export interface FinishedReport {
  window: TimeWindow;
  /** One row per queue. */
  byQueue: FinishedTotals[];
  /** One row per (queue, task name). */
  byTask: (FinishedTotals & { name: string })[];
}

/** How many tasks of one name are in one state. */
export interface StateCount {
  name: string;
  state: string;
  count: number;
}

// Percentiles and counts of the tasks created in [$1, $2); GROUPING SETS adds the all-tasks row (name NULL).
const SUBMITTED_SQL = `
  SELECT name, GROUPING(name) AS overall,
         count(*)::int AS submitted,
         (count(*) FILTER (WHERE state = 'SUCCESS'))::int AS succeeded,
         (count(*) FILTER (WHERE state = 'FAILURE'))::int AS failed,
         (count(*) FILTER (WHERE state = 'REVOKED'))::int AS revoked,
         (count(*) FILTER (WHERE state IN ('PENDING', 'STARTED', 'RETRY')))::int AS open,
         coalesce(sum(greatest(attempts - 1, 0)), 0)::int AS retries,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY runtime_ms) FILTER (WHERE state = 'SUCCESS') AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY runtime_ms) FILTER (WHERE state = 'SUCCESS') AS p95
    FROM task_runs
   WHERE created_at >= $1 AND created_at < $2
   GROUP BY GROUPING SETS ((name), ())
   ORDER BY name NULLS FIRST`;

// Reads the rollups, not the records: whole hours from the hourly rows, the ragged minutes at
// either end from the per-minute rows (at most ~2 h of them), so 7 days cost little more than
// 1 h. The window is the N whole minutes before the current one plus the current one so far;
// one longer than a day starts on the hour instead (those reach back further than per-minute
// rows are kept). The last range has no upper bound, as a worker's clock may run ahead of the
// database's. Counts
// come as rows with a state, the runtime histogram as rows with a runtime bucket. The LEFT JOIN
// keeps one row (with the bounds) when nothing finished.
const IN_WINDOW = `
  ((r.span_minutes = 60 AND r.bucket >= b.hour_lo AND r.bucket < b.hour_hi)
   OR (r.span_minutes = 1 AND r.bucket >= b.lo AND r.bucket < b.hour_lo)
   OR (r.span_minutes = 1 AND r.bucket >= greatest(b.hour_hi, b.lo)))`;
const FINISHED_SQL = `
  WITH b0 AS (
    SELECT now() AS now,
           date_trunc(CASE WHEN $1 > 1440 THEN 'hour' ELSE 'minute' END, now() - make_interval(mins => $1)) AS lo,
           date_trunc('hour', now()) AS hour_hi
  ), b AS (
    SELECT now, lo, hour_hi, date_trunc('hour', lo + interval '59 minutes') AS hour_lo FROM b0
  )
  SELECT b.now, b.lo, g.*
    FROM b LEFT JOIN LATERAL (
      SELECT r.queue, r.name, r.state, NULL::int AS runtime_bucket, sum(r.count)::int AS count,
             sum(r.retries)::int AS retries
        FROM task_run_rollups r WHERE ${IN_WINDOW}
       GROUP BY 1, 2, 3 HAVING sum(r.count) <> 0 OR sum(r.retries) <> 0
      UNION ALL
      SELECT r.queue, r.name, NULL, r.runtime_bucket, sum(r.count)::int, 0
        FROM task_run_runtime_rollups r WHERE ${IN_WINDOW}
       GROUP BY 1, 2, 4 HAVING sum(r.count) <> 0
    ) g ON true`;

const STATE_COUNTS_SQL = `
  SELECT name, state, count(*)::int AS count
    FROM task_runs WHERE created_at >= $1 AND created_at < $2
   GROUP BY name, state ORDER BY name, state`;

/**
 * The platform's read model of task records for reports and operator views: counts and
 * runtime percentiles by name, queue and state over a window of time. Domains read task
 * statistics here instead of querying `task_runs` themselves.
 */
@Injectable()
export class TaskStatistics {
  constructor(private readonly dataSource: DataSource) {}

  /** Tasks created in `window`, per task name and overall (`overall` is all zeros for an empty window). */
  async submitted(
    window: TimeWindow,
  ): Promise<{ overall: SubmittedTotals; byName: (SubmittedTotals & { name: string })[] }> {
    const rows: any[] = await this.dataSource.query(SUBMITTED_SQL, [window.from, window.to]);
    const totals = (row: any): SubmittedTotals => ({
      submitted: row.submitted,
      succeeded: row.succeeded,
      failed: row.failed,
      revoked: row.revoked,
      open: row.open,
      retries: row.retries,
      runtimeP50Ms: tenths(row.p50),
      runtimeP95Ms: tenths(row.p95),
    });
    const overall = rows.find((r) => Number(r.overall) === 1);
    return {
      overall: overall
        ? totals(overall)
        : totals({ submitted: 0, succeeded: 0, failed: 0, revoked: 0, open: 0, retries: 0, p50: null, p95: null }),
      byName: rows.filter((r) => Number(r.overall) === 0).map((r) => ({ name: r.name, ...totals(r) })),
    };
  }

  /**
   * Tasks that reached a final state in the last `minutes` (by the database clock, so every
   * replica gives the same answer), per queue and per (queue, name), from the rollups that
   * triggers keep on `task_runs` (migration CreateTaskRunRollups). The window starts on the
   * minute (on the hour beyond a day); percentiles come from the runtime histogram (exact below 16 ms, within 10% above).
   */
  async finished(minutes: number): Promise<FinishedReport> {
    const rows: RollupRow[] = await this.dataSource.query(FINISHED_SQL, [minutes]);
    const byQueue = new Map<string, Tally>();
    const byTask = new Map<string, Tally & { name: string }>();
    for (const row of rows) {
      if (row.queue === null) continue;
      const queue = byQueue.get(row.queue) ?? byQueue.set(row.queue, newTally(row.queue)).get(row.queue)!;
      const key = `${row.queue}\u0000${row.name}`;
      const task = byTask.get(key) ?? byTask.set(key, { ...newTally(row.queue), name: row.name }).get(key)!;
      for (const tally of [queue, task]) add(tally, row);
    }
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const byQueueName = (a: { queue: string }, b: { queue: string }) =>
      a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0;
    return {
      window: { from: new Date(rows[0].lo), to: new Date(rows[0].now) },
      byQueue: [...byQueue.values()].sort(byQueueName).map(totals),
      byTask: [...byTask.values()]
        .sort((a, b) => byQueueName(a, b) || byName(a, b))
        .map((t) => ({ name: t.name, ...totals(t) })),
    };
  }

  /** How many tasks created in `window` are in each state, per task name. */
  countsByState(window: TimeWindow): Promise<StateCount[]> {
    return this.dataSource.query(STATE_COUNTS_SQL, [window.from, window.to]);
  }
}

interface RollupRow {
  now: Date;
  lo: Date;
  queue: string | null;
  name: string;
  /** Set on a count row. */
  state: string | null;
  /** Set on a histogram row. */
  runtime_bucket: number | null;
  count: number;
  retries: number;
}

interface Tally {
  queue: string;
  states: Map<string, number>;
  retried: number;
  histogram: Map<number, number>;
}

function newTally(queue: string): Tally {
  return { queue, states: new Map(), retried: 0, histogram: new Map() };
}

function add(tally: Tally, row: RollupRow): void {
  if (row.state !== null) {
    tally.states.set(row.state, (tally.states.get(row.state) ?? 0) + row.count);
    tally.retried += row.retries;
  } else if (row.runtime_bucket !== null) {
    tally.histogram.set(row.runtime_bucket, (tally.histogram.get(row.runtime_bucket) ?? 0) + row.count);
  }
}

function totals(tally: Tally): FinishedTotals {
  const count = (state: string) => tally.states.get(state) ?? 0;
  return {
    queue: tally.queue,
    processed: [...tally.states.values()].reduce((sum, n) => sum + n, 0),
    succeeded: count('SUCCESS'),
    failed: count('FAILURE'),
    revoked: count('REVOKED'),
    retried: tally.retried,
    runtimeP50Ms: whole(histogramPercentile(tally.histogram, 0.5)),
    runtimeP95Ms: whole(histogramPercentile(tally.histogram, 0.95)),
  };
}

function whole(ms: unknown): number | null {
  return ms === null ? null : Math.round(Number(ms));
}

function tenths(ms: unknown): number | null {
  return ms === null ? null : Math.round(Number(ms) * 10) / 10;
}
