import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

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
  /** Percentiles of the final attempt's runtime over every finished task, in ms. */
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

// Uses the partial index on finished_at; percentiles are over the final attempt's runtime.
const FINISHED_SQL = `
  SELECT name, queue, GROUPING(name) AS by_queue, now() AS now,
         count(*) AS processed,
         count(*) FILTER (WHERE state = 'SUCCESS') AS succeeded,
         count(*) FILTER (WHERE state = 'FAILURE') AS failed,
         count(*) FILTER (WHERE state = 'REVOKED') AS revoked,
         coalesce(sum(greatest(attempts - 1, 0)), 0) AS retried,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY runtime_ms) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY runtime_ms) AS p95
    FROM task_runs
   WHERE finished_at IS NOT NULL AND finished_at >= now() - make_interval(mins => $1)
   GROUP BY GROUPING SETS ((queue, name), (queue))
   ORDER BY queue, name NULLS FIRST`;

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
   * replica gives the same answer), per queue and per (queue, name).
   */
  async finished(minutes: number): Promise<FinishedReport> {
    const rows: any[] = await this.dataSource.query(FINISHED_SQL, [minutes]);
    const totals = (row: any): FinishedTotals => ({
      queue: row.queue,
      processed: Number(row.processed),
      succeeded: Number(row.succeeded),
      failed: Number(row.failed),
      revoked: Number(row.revoked),
      retried: Number(row.retried),
      runtimeP50Ms: whole(row.p50),
      runtimeP95Ms: whole(row.p95),
    });
    const to = rows[0]?.now ? new Date(rows[0].now) : new Date();
    return {
      window: { from: new Date(to.getTime() - minutes * 60_000), to },
      byQueue: rows.filter((r) => Number(r.by_queue) === 1).map(totals),
      byTask: rows.filter((r) => Number(r.by_queue) === 0).map((r) => ({ name: r.name, ...totals(r) })),
    };
  }

  /** How many tasks created in `window` are in each state, per task name. */
  countsByState(window: TimeWindow): Promise<StateCount[]> {
    return this.dataSource.query(STATE_COUNTS_SQL, [window.from, window.to]);
  }
}

function whole(ms: unknown): number | null {
  return ms === null ? null : Math.round(Number(ms));
}

function tenths(ms: unknown): number | null {
  return ms === null ? null : Math.round(Number(ms) * 10) / 10;
}
