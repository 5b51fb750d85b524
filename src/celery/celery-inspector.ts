import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ActiveTasks } from '../tasks/run/active-tasks.service';
import { TaskRegistry } from '../tasks/task-registry.service';
import { TaskState } from '../tasks/task-state';
import { CeleryConnections } from './celery-connections';
import { CeleryTracker, TrackedCall } from './celery-tracker';

/**
 * The replies of `celery inspect …` for this process, in the shapes a Celery worker gives
 * (`Request.info()` per task), from live data: the tasks running here (REST ones included), the
 * Celery calls taken here that still wait in our queues, and the registry.
 */
@Injectable()
export class CeleryInspector {
  constructor(
    private readonly config: AppConfig,
    private readonly connections: CeleryConnections,
    private readonly tracker: CeleryTracker,
    private readonly running: ActiveTasks,
    private readonly registry: TaskRegistry,
  ) {}

  active(): Record<string, unknown>[] {
    return this.running.list().map((task) => {
      const call = this.tracker.get(task.id);
      return {
        id: task.id,
        name: task.name,
        args: call?.message.args ?? [],
        kwargs: call?.message.kwargs ?? {},
        type: task.name,
        hostname: this.connections.nodeName,
        time_start: task.startedAt.getTime() / 1000,
        acknowledged: true,
        delivery_info: {
          exchange: '',
          routing_key: call?.message.routingKey ?? task.queue,
          priority: 0,
          redelivered: false,
        },
        worker_pid: process.pid,
      };
    });
  }

  /** Celery calls taken here that wait in our queues to run now. */
  reserved(): Record<string, unknown>[] {
    return this.tracker
      .list(TaskState.PENDING)
      .filter((c) => !c.message.eta || c.message.eta.getTime() <= Date.now())
      .map((c) => this.info(c));
  }

  /** Celery calls taken here that wait for their `eta`/`countdown`. */
  scheduled(): Record<string, unknown>[] {
    return this.tracker
      .list(TaskState.PENDING)
      .filter((c) => c.message.eta && c.message.eta.getTime() > Date.now())
      .map((c) => ({ eta: c.message.eta!.toISOString(), priority: c.message.priority ?? 0, request: this.info(c) }));
  }

  registered(): string[] {
    return this.registry.all().map((t) => t.definition.name);
  }

  revoked(): string[] {
    return this.tracker.revokedIds();
  }

  activeQueues(): Record<string, unknown>[] {
    return this.connections.queues.map((name) => ({
      name,
      exchange: { name, type: 'direct' },
      routing_key: name,
      durable: true,
    }));
  }

  stats(clock: number): Record<string, unknown> {
    const usage = process.resourceUsage();
    const queues = this.registry.all().map((t) => t.queue);
    const broker = this.connections.broker.options;
    return {
      total: Object.fromEntries(this.tracker.totals),
      pid: process.pid,
      clock: String(clock),
      uptime: Math.round((Date.now() - this.tracker.startedAt) / 1000),
      pool: {
        implementation: 'task-service:BullMQ',
        'max-concurrency': [...new Set(queues)].reduce((sum, q) => sum + this.config.concurrencyFor(q), 0),
        processes: [process.pid],
        'put-guarded-by-semaphore': false,
        timeouts: [0, 0],
        writes: { total: 0 },
      },
      broker: {
        hostname: broker.host,
        port: broker.port,
        transport: 'redis',
        virtual_host: String(broker.db ?? 0),
        userid: null,
        ssl: Boolean(broker.tls),
        heartbeat: 0,
        connect_timeout: 4,
        login_method: null,
        uri_prefix: null,
        insist: false,
        alternates: [],
        transport_options: { visibility_timeout: this.connections.settings.CELERY_VISIBILITY_TIMEOUT },
      },
      prefetch_count: this.connections.settings.CELERY_PREFETCH,
      rusage: {
        utime: usage.userCPUTime / 1e6,
        stime: usage.systemCPUTime / 1e6,
        maxrss: usage.maxRSS,
        minflt: usage.minorPageFault,
        majflt: usage.majorPageFault,
        nvcsw: usage.voluntaryContextSwitches,
        nivcsw: usage.involuntaryContextSwitches,
      },
      'task-service': {
        open_celery_calls: this.tracker.list().length,
        holding_unacked: this.connections.consumer.holding,
        running: this.running.list().length,
      },
    };
  }

  private info(call: TrackedCall): Record<string, unknown> {
    const { message } = call;
    return {
      id: message.id,
      name: message.task,
      args: message.args,
      kwargs: message.kwargs,
      type: message.task,
      hostname: this.connections.nodeName,
      time_start: null,
      acknowledged: true,
      delivery_info: {
        exchange: message.exchange,
        routing_key: message.routingKey,
        priority: message.priority ?? 0,
        redelivered: message.redelivered,
      },
      worker_pid: null,
    };
  }
}
