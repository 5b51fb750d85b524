import { Injectable, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { QueueOverviewService } from '../tasks/queue-overview.service';
import { TaskEvents } from '../tasks/task-events';
import { TaskState } from '../tasks/task-state';

/** Runtime buckets (seconds) from a noop to an hour: file processing and exports take minutes. */
export const RUNTIME_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/**
 * The Prometheus registry of this process. Task counters and runtimes come from the attempts
 * this process ran (scrape every worker pod); queue depth is read from the transport at scrape
 * time by processes that serve the API, since it is the same for every replica.
 */
@Injectable()
export class TaskMetrics implements OnModuleInit {
  // A registry per app instance, not prom-client's global one: tests boot several apps per process.
  readonly registry = new Registry();
  private readonly finished = new Counter({
    name: 'tasks_finished_total',
    help: 'Tasks that reached a final state, by task, queue and state',
    labelNames: ['task', 'queue', 'state'],
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: 'task_attempts_total',
    help: 'Task attempts by outcome (SUCCESS, RETRY, FAILURE, REVOKED)',
    labelNames: ['task', 'queue', 'outcome'],
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'task_retries_total',
    help: 'Attempts that failed and were scheduled to retry',
    labelNames: ['task', 'queue'],
    registers: [this.registry],
  });
  private readonly runtime = new Histogram({
    name: 'task_runtime_seconds',
    help: 'Runtime of one attempt, by outcome',
    labelNames: ['task', 'queue', 'outcome'],
    buckets: RUNTIME_BUCKETS,
    registers: [this.registry],
  });

  constructor(
    private readonly config: AppConfig,
    private readonly events: TaskEvents,
    private readonly queues: QueueOverviewService,
  ) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry });
    this.events.onAttemptFinished(({ name, queue, state, runtimeMs }) => {
      this.attempts.inc({ task: name, queue, outcome: state });
      this.runtime.observe({ task: name, queue, outcome: state }, runtimeMs / 1000);
      if (state === TaskState.RETRY) this.retries.inc({ task: name, queue });
      else this.finished.inc({ task: name, queue, state });
    });
    if (this.config.runsApi) this.registerQueueGauges();
  }

  private registerQueueGauges(): void {
    const queues = this.queues;
    const registers = [this.registry];
    // Registered in this order so the first gauge's collect fills the other two before they are read.
    const oldest = { gauge: null as Gauge | null };
    const paused = { gauge: null as Gauge | null };
    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs in the transport by queue and state',
      labelNames: ['queue', 'state'],
      registers,
      // One read of the transport per scrape fills all three gauges.
      async collect() {
        for (const q of await queues.overviewAll()) {
          for (const [state, count] of Object.entries(q.counts)) this.set({ queue: q.name, state }, count);
          oldest.gauge?.set({ queue: q.name }, q.oldestWaitingSeconds);
          paused.gauge?.set({ queue: q.name }, q.paused ? 1 : 0);
        }
      },
    });
    oldest.gauge = new Gauge({
      name: 'queue_oldest_waiting_seconds',
      help: 'Age of the oldest job that could run now but waits (scale workers on this)',
      labelNames: ['queue'],
      registers,
    });
    paused.gauge = new Gauge({
      name: 'queue_paused',
      help: '1 when the queue is paused',
      labelNames: ['queue'],
      registers,
    });
  }
}
