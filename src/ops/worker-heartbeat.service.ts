import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ActiveTasks } from '../tasks/run/active-tasks.service';
import { TaskEvents } from '../tasks/task-events';
import { TaskState } from '../tasks/task-state';
import { WorkerShutdown } from '../tasks/run/worker-shutdown.service';
import { OpsEnvironment } from './ops.environment';

/** How fast a change in the active set is published (a new task shows in /workers within this). */
const CHANGE_POLL_MS = 500;

export interface WorkerTotals {
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
}

/**
 * Publishes this worker process (id, host, pid, queues with concurrency, active tasks, totals
 * since start) to `worker_heartbeats`: Celery's `inspect active` answered from any api replica.
 * It writes on every beat and as soon as the active set changes; on shutdown the row goes away.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The same id the task runner stores on task records (`worker_id`). */
  readonly workerId = `${hostname()}#${process.pid}`;
  private readonly logger = new Logger(WorkerHeartbeat.name);
  private readonly startedAt = new Date();
  private readonly totals: WorkerTotals = { succeeded: 0, failed: 0, retried: 0, revoked: 0 };
  private timer: NodeJS.Timeout | null = null;
  private lastSignature = '';
  private lastWrite = 0;
  private writing = false;

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly active: ActiveTasks,
    private readonly shutdown: WorkerShutdown,
    events: TaskEvents,
  ) {
    events.onAttemptFinished((event) => {
      if (event.state === TaskState.SUCCESS) this.totals.succeeded++;
      else if (event.state === TaskState.FAILURE) this.totals.failed++;
      else if (event.state === TaskState.RETRY) this.totals.retried++;
      else if (event.state === TaskState.REVOKED) this.totals.revoked++;
    });
  }

  onApplicationBootstrap(): void {
    if (this.shutdown.workers().length === 0) return;
    const interval = this.config.section(OpsEnvironment).WORKER_HEARTBEAT_MS;
    this.timer = setInterval(() => void this.tick(interval), CHANGE_POLL_MS);
    this.timer.unref();
    void this.tick(interval);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    await this.dataSource.query('DELETE FROM worker_heartbeats WHERE id = $1', [this.workerId]).catch(() => undefined);
  }

  private async tick(interval: number): Promise<void> {
    const active = this.active.list();
    const signature = active.map((t) => `${t.id}:${t.attempt}`).join(',');
    if (this.writing || (signature === this.lastSignature && Date.now() - this.lastWrite < interval)) return;
    this.writing = true;
    try {
      await this.publish(active);
      this.lastSignature = signature;
      this.lastWrite = Date.now();
    } catch (error) {
      this.logger.warn(`Could not publish the worker heartbeat: ${error.message}`);
    } finally {
      this.writing = false;
    }
  }

  private async publish(active: ReturnType<ActiveTasks['list']>): Promise<void> {
    const queues = this.shutdown.workers().map((w) => ({ name: w.name, concurrency: w.concurrency }));
    const tasks = active.map((t) => ({
      id: t.id,
      name: t.name,
      queue: t.queue,
      attempt: t.attempt,
      startedAt: t.startedAt.toISOString(),
    }));
    await this.dataSource.query(
      `INSERT INTO worker_heartbeats (id, host, pid, queues, active, totals, started_at, last_seen)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (id) DO UPDATE SET queues = $4, active = $5, totals = $6, last_seen = now()`,
      [
        this.workerId,
        hostname(),
        process.pid,
        JSON.stringify(queues),
        JSON.stringify(tasks),
        JSON.stringify(this.totals),
        this.startedAt,
      ],
    );
  }
}
