import { Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { TaskEvents } from '../tasks/task-events';
import { TaskQueues } from '../tasks/queues/task-queues.service';
import { TaskRegistry } from '../tasks/task-registry.service';
import { FINAL_STATES, TaskState } from '../tasks/task-state';

/** Runtime buckets (seconds) from a noop to an hour: file processing and exports take minutes. */
export const RUNTIME_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** Request durations from a cached read to a long-poll or a large upload. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The outcomes of one attempt, as `task_attempts_total{outcome}` reports them. */
export const ATTEMPT_OUTCOMES: readonly TaskState[] = [TaskState.RETRY, ...FINAL_STATES];

/**
 * The Prometheus registry of this process and the task counters. Counters and runtimes come
 * from the attempts this process ran (scrape every worker pod); the deployment-wide gauges
 * (queues, outbox, workers, stores) are {@link PlatformGauges}', HTTP timings
 * {@link HttpMetricsMiddleware} fills `httpDuration`.
 */
@Injectable()
export class TaskMetrics implements OnModuleInit, OnApplicationBootstrap {
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
  /** Filled by {@link HttpMetricsMiddleware}; here because Nest may build a middleware twice. */
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  constructor(
    private readonly config: AppConfig,
    private readonly events: TaskEvents,
    private readonly tasks: TaskRegistry,
    private readonly queues: TaskQueues,
  ) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry });
    this.events.onAttemptFinished(({ name, queue, state, runtimeMs }) => {
      this.attempts.inc({ task: name, queue, outcome: state });
      this.runtime.observe({ task: name, queue, outcome: state }, runtimeMs / 1000);
      if (state === TaskState.RETRY) this.retries.inc({ task: name, queue });
      else this.finished.inc({ task: name, queue, state });
    });
  }

  /**
   * Every task this process can run starts each counter at 0: `increase()` and `rate()` need a
   * sample before the first event, or the first failure of a task after a deploy never shows.
   * After bootstrap, so the registry has resolved every task's queue (TASK_ROUTES included).
   */
  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    const consumed = new Set(this.config.workerQueues(this.queues.names));
    for (const { definition, queue } of this.tasks.all()) {
      if (!consumed.has(queue)) continue;
      const task = definition.name;
      for (const outcome of ATTEMPT_OUTCOMES) this.attempts.inc({ task, queue, outcome }, 0);
      for (const state of FINAL_STATES) this.finished.inc({ task, queue, state }, 0);
      this.retries.inc({ task, queue }, 0);
    }
  }
}
