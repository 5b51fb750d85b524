import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { OpsEnvironment } from '../ops/ops.environment';
import { QueueOverview, QueueOverviewService } from '../tasks/queues/queue-overview.service';
import { TaskRunStore } from '../tasks/records/task-run.store';
import { Store, StoreHealth } from '../tasks/store-health';
import { BoundedRead, ReadResult } from './bounded-read';
import { MetricsEnvironment } from './metrics.environment';
import { TaskMetrics } from './task-metrics.service';

/** A worker that missed this many heartbeats no longer counts (as in `GET /workers`). */
const MISSED_BEATS = 3;

interface OutboxState {
  pending: number;
  oldestSeconds: number;
}

/** Everything one scrape reads from the stores, each part on its own deadline. */
interface Snapshot {
  queues: Map<string, ReadResult<QueueOverview> | null>;
  outbox: ReadResult<OutboxState> | null;
  workers: ReadResult<Map<string, number>> | null;
}

/**
 * Deployment-wide gauges read from the stores at scrape time: queue depth and age (from the
 * transport), the outbox backlog and live workers per queue (from the database), and whether
 * each store answers. Every read has a deadline (METRICS_READ_TIMEOUT_MS), so /metrics answers
 * within about a second while a store hangs; a gauge that could not be read is left out and
 * `metrics_scrape_error{source}` says so. Only processes that serve the API read the stores
 * (the values are the same from every replica); every process reports `store_up`.
 */
@Injectable()
export class PlatformGauges implements OnModuleInit {
  private readonly timeoutMs: number;
  private readonly queueReads = new Map<string, BoundedRead<QueueOverview>>();
  private outboxRead!: BoundedRead<OutboxState>;
  private workersRead!: BoundedRead<Map<string, number>>;
  private current: Promise<Snapshot> | null = null;

  constructor(
    private readonly metrics: TaskMetrics,
    private readonly config: AppConfig,
    private readonly stores: StoreHealth,
    private readonly queues: QueueOverviewService,
    private readonly dataSource: DataSource,
    private readonly store: TaskRunStore,
  ) {
    this.timeoutMs = config.section(MetricsEnvironment).METRICS_READ_TIMEOUT_MS;
  }

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    // prom-client calls `collect` with the gauge as `this`: these reach the service instead.
    const snapshot = () => this.snapshot();
    const readQueues = (s: Snapshot) => this.readQueues(s);
    const isUp = (store: Store, s: Snapshot | null) => this.isUp(store, s);
    const runsApi = this.config.runsApi;
    const queueNames = this.queues.names;
    new Gauge({
      name: 'store_up',
      help: '1 while the store (database, transport) answers, 0 while this process sees it down',
      labelNames: ['store'],
      registers,
      async collect() {
        const current = runsApi ? await snapshot() : null;
        for (const store of ['database', 'transport'] as Store[]) this.set({ store }, isUp(store, current) ? 1 : 0);
      },
    });
    if (!this.config.runsApi) return;
    for (const name of this.queues.names)
      this.queueReads.set(name, new BoundedRead(() => this.queues.overview(name), this.timeoutMs));
    this.outboxRead = new BoundedRead(() => this.readOutbox(), this.timeoutMs);
    this.workersRead = new BoundedRead(() => this.readWorkers(), this.timeoutMs);

    new Gauge({
      name: 'metrics_scrape_error',
      help: '1 when this scrape could not read a source (queue:<name>, outbox, workers): its gauges are missing',
      labelNames: ['source'],
      registers,
      async collect() {
        const { queues, outbox, workers } = await snapshot();
        for (const [name, read] of queues) this.set({ source: `queue:${name}` }, read?.ok ? 0 : 1);
        this.set({ source: 'outbox' }, outbox?.ok ? 0 : 1);
        this.set({ source: 'workers' }, workers?.ok ? 0 : 1);
      },
    });
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs in the transport by queue and state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const q of readQueues(await snapshot()))
          for (const [state, count] of Object.entries(q.counts)) this.set({ queue: q.name, state }, count);
      },
    });
    new Gauge({
      name: 'queue_oldest_waiting_seconds',
      help: 'Age of the oldest job that could run now but waits (scale workers on this)',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const q of readQueues(await snapshot())) this.set({ queue: q.name }, q.oldestWaitingSeconds);
      },
    });
    new Gauge({
      name: 'queue_paused',
      help: '1 when the queue is paused',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const q of readQueues(await snapshot())) this.set({ queue: q.name }, q.paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'queue_workers',
      help: 'Live worker processes consuming the queue (from their heartbeats)',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        const { workers } = await snapshot();
        if (!workers?.ok) return;
        // Every known queue, so a queue nobody consumes shows 0 rather than nothing.
        for (const queue of queueNames) this.set({ queue }, workers.value.get(queue) ?? 0);
      },
    });
    new Gauge({
      name: 'task_outbox_pending',
      help: 'Records committed while the transport was unreachable whose job is not queued yet',
      registers,
      async collect() {
        this.reset();
        const { outbox } = await snapshot();
        if (outbox?.ok) this.set(outbox.value.pending);
      },
    });
    new Gauge({
      name: 'task_outbox_oldest_seconds',
      help: 'Age of the oldest record waiting in the outbox; 0 when it is empty',
      registers,
      async collect() {
        this.reset();
        const { outbox } = await snapshot();
        if (outbox?.ok) this.set(outbox.value.oldestSeconds);
      },
    });
  }

  /**
   * One set of reads per scrape: prom-client collects every metric at once, so the gauges
   * share the reads in flight instead of each reading; the next scrape reads afresh.
   */
  private snapshot(): Promise<Snapshot> {
    if (!this.current) {
      const current = this.read();
      this.current = current;
      void current.finally(() => {
        if (this.current === current) this.current = null;
      });
    }
    return this.current;
  }

  private async read(): Promise<Snapshot> {
    // A store known to be down is not asked at all: the answer would only be a timeout.
    const transportDown = this.stores.isDown('transport');
    const databaseDown = this.stores.isDown('database');
    const [queues, outbox, workers] = await Promise.all([
      Promise.all(
        [...this.queueReads].map(async ([name, read]) => [name, transportDown ? null : await read.run()] as const),
      ),
      databaseDown ? null : this.outboxRead.run(),
      databaseDown ? null : this.workersRead.run(),
    ]);
    return { queues: new Map(queues), outbox, workers };
  }

  private readQueues(snapshot: Snapshot): QueueOverview[] {
    return [...snapshot.queues.values()].flatMap((read) => (read?.ok ? [read.value] : []));
  }

  private isUp(store: Store, snapshot: Snapshot | null): boolean {
    if (this.stores.isDown(store)) return false;
    if (!snapshot) return true;
    if (store === 'transport') return [...snapshot.queues.values()].some((read) => read?.ok);
    return Boolean(snapshot.outbox?.ok || snapshot.workers?.ok);
  }

  private async readOutbox(): Promise<OutboxState> {
    const { pending, oldestSeconds } = await this.store.outboxBacklog();
    return { pending, oldestSeconds: Math.round(oldestSeconds * 10) / 10 };
  }

  private async readWorkers(): Promise<Map<string, number>> {
    const staleSeconds = (this.config.section(OpsEnvironment).WORKER_HEARTBEAT_MS * MISSED_BEATS) / 1000;
    const rows: { queue: string; workers: number }[] = await this.dataSource.query(
      `SELECT q->>'name' AS queue, count(*)::int AS workers
         FROM worker_heartbeats, jsonb_array_elements(queues) q
        WHERE last_seen >= now() - make_interval(secs => $1)
        GROUP BY 1`,
      [staleSeconds],
    );
    return new Map(rows.map((r) => [r.queue, r.workers]));
  }
}
