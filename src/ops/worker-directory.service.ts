import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { OpsEnvironment } from './ops.environment';
import { WorkerTotals } from './worker-heartbeat.service';

export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  queues: { name: string; concurrency: number }[];
  startedAt: string;
  lastSeen: string;
  totals: WorkerTotals;
  active: { id: string; name: string; queue: string; attempt: number; startedAt: string; runtimeSeconds: number }[];
}

/** A worker that missed this many heartbeats is considered dead and no longer listed. */
const MISSED_BEATS = 3;

/** The live workers of the deployment, from their heartbeats (Celery's `inspect active`). */
@Injectable()
export class WorkerDirectory {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async live(): Promise<WorkerView[]> {
    const interval = this.config.section(OpsEnvironment).WORKER_HEARTBEAT_MS;
    const staleMs = interval * MISSED_BEATS;
    // Rows of workers that died without saying goodbye are cleaned up by whoever looks.
    await this.dataSource.query(`DELETE FROM worker_heartbeats WHERE last_seen < now() - make_interval(secs => $1)`, [
      (staleMs * 10) / 1000,
    ]);
    const rows: any[] = await this.dataSource.query(
      `SELECT id, host, pid, queues, active, totals, started_at, last_seen, now() AS now
         FROM worker_heartbeats WHERE last_seen >= now() - make_interval(secs => $1) ORDER BY host, pid`,
      [staleMs / 1000],
    );
    return rows.map((row) => {
      const now = new Date(row.now).getTime();
      return {
        id: row.id,
        host: row.host,
        pid: row.pid,
        queues: row.queues,
        startedAt: new Date(row.started_at).toISOString(),
        lastSeen: new Date(row.last_seen).toISOString(),
        totals: row.totals,
        active: (row.active as any[]).map((task) => ({
          ...task,
          runtimeSeconds: Math.max(0, Math.round((now - new Date(task.startedAt).getTime()) / 100) / 10),
        })),
      };
    });
  }
}
