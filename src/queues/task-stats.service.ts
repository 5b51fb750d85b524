import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface TaskStatsRow {
  task: string;
  queue: string;
  /** Tasks that reached a final state in the window. */
  processed: number;
  succeeded: number;
  failed: number;
  revoked: number;
  /** Extra attempts those tasks needed (one task retried twice counts 2). */
  retried: number;
  runtimeP50Ms: number | null;
  runtimeP95Ms: number | null;
}

export interface StatsReport {
  windowMinutes: number;
  from: string;
  to: string;
  queues: Omit<TaskStatsRow, 'task'>[];
  tasks: TaskStatsRow[];
}

/**
 * Celery's `inspect stats`, computed from the task records rather than per-process counters,
 * so every api replica gives the same answer whichever worker ran the tasks.
 */
@Injectable()
export class TaskStatsService {
  constructor(private readonly dataSource: DataSource) {}

  async report(windowMinutes: number): Promise<StatsReport> {
    // Uses the partial index on finished_at; percentiles are over the final attempt's runtime.
    const rows: any[] = await this.dataSource.query(
      `SELECT name, queue, GROUPING(name) AS by_queue, now() AS now,
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
        ORDER BY queue, name NULLS FIRST`,
      [windowMinutes],
    );
    const toRow = (row: any): TaskStatsRow => ({
      task: row.name,
      queue: row.queue,
      processed: Number(row.processed),
      succeeded: Number(row.succeeded),
      failed: Number(row.failed),
      revoked: Number(row.revoked),
      retried: Number(row.retried),
      runtimeP50Ms: row.p50 === null ? null : Math.round(Number(row.p50)),
      runtimeP95Ms: row.p95 === null ? null : Math.round(Number(row.p95)),
    });
    const to = rows[0]?.now ? new Date(rows[0].now) : new Date();
    return {
      windowMinutes,
      from: new Date(to.getTime() - windowMinutes * 60_000).toISOString(),
      to: to.toISOString(),
      queues: rows
        .filter((r) => Number(r.by_queue) === 1)
        .map((r) => {
          const { task: _, ...rest } = toRow(r);
          return rest;
        }),
      tasks: rows.filter((r) => Number(r.by_queue) === 0).map(toRow),
    };
  }
}
