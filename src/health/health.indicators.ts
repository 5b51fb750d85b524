import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { FileEnvironment } from '../file/file.environment';
import { QueueName } from '../tasks/queue-names';
import { StoreHealth } from '../tasks/store-health';
import { TaskQueues } from '../tasks/queues/task-queues.service';
import { EventLoopDelayMonitor } from './event-loop-delay';
import { HealthEnvironment } from './health.environment';
import { ShutdownState } from './shutdown-state.service';

/** The indicators Terminus has no built-in for: event loop, transport, storage, shutdown. */
@Injectable()
export class ServiceHealthIndicators implements OnModuleInit, OnModuleDestroy {
  private readonly loop = new EventLoopDelayMonitor();
  private readonly settings: HealthEnvironment;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly queues: TaskQueues,
    private readonly shutdown: ShutdownState,
    private readonly config: AppConfig,
    private readonly stores: StoreHealth,
    private readonly dataSource: DataSource,
  ) {
    this.settings = config.section(HealthEnvironment);
  }

  onModuleInit(): void {
    this.loop.start();
    // While a store is down, StoreHealth probes it with these to notice it is back.
    const timeout = this.settings.HEALTH_CHECK_TIMEOUT_MS;
    this.stores.setProbe('database', () => withTimeout(this.dataSource.query('SELECT 1'), timeout));
    this.stores.setProbe('transport', () => withTimeout(this.pingTransport(), timeout));
  }

  onModuleDestroy(): void {
    this.loop.stop();
  }

  /**
   * The used heap against `limitBytes`. From V8's heap statistics, not `process.memoryUsage()`
   * (terminus' check), which also reads the RSS from /proc on every probe: a sixth of the CPU
   * of `GET /health/live` under load.
   */
  heap(limitBytes: number) {
    const session = this.indicators.check('memory_heap');
    const used = getHeapStatistics().used_heap_size;
    return used > limitBytes
      ? session.down({ message: `Used heap exceeds the threshold`, usedBytes: used, limitBytes })
      : session.up();
  }

  eventLoop() {
    const session = this.indicators.check('event_loop');
    const maxDelayMs = Math.round(this.loop.maxDelayMs());
    const limitMs = this.settings.HEALTH_MAX_EVENT_LOOP_DELAY_MS;
    return maxDelayMs > limitMs ? session.down({ maxDelayMs, limitMs }) : session.up({ maxDelayMs, limitMs });
  }

  /**
   * A round trip to the database, answered at once with `down` (and since when) while
   * {@link StoreHealth} knows it is unreachable, so a probe never waits on a dead server.
   */
  database() {
    const outage = this.stores.outage('database');
    const session = this.indicators.check('database');
    if (outage) return session.down({ message: 'The database is unreachable', since: outage.since.toISOString() });
    return session
      .attempt(async () => {
        await this.dataSource.query('SELECT 1');
        return {};
      })
      .withTimeout(this.settings.HEALTH_CHECK_TIMEOUT_MS);
  }

  /**
   * A real round trip through the queue transport. `getJobCounts` works on Redis and on BullMQ's
   * PostgreSQL backend alike, where a raw client ping would not exist.
   */
  transport() {
    const outage = this.stores.outage('transport');
    const backend = this.config.usesRedis ? 'redis' : 'postgres';
    const session = this.indicators.check('queue_transport');
    if (outage)
      return session.down({
        message: 'The queue transport is unreachable',
        backend,
        since: outage.since.toISOString(),
      });
    return session
      .attempt(async () => {
        await this.pingTransport();
        return { backend };
      })
      .withTimeout(this.settings.HEALTH_CHECK_TIMEOUT_MS);
  }

  private async pingTransport(): Promise<void> {
    await this.queues.get(QueueName.DEFAULT).getJobCounts('wait');
  }

  /** Uploads and exports live in the storage directory: a read-only or full volume is fatal. */
  storage() {
    const root = this.config.section(FileEnvironment).STORAGE_DIR ?? join(this.config.env.DATA_DIR, 'storage');
    return this.indicators
      .check('storage')
      .attempt(async () => {
        const dir = join(root, '.health');
        await mkdir(dir, { recursive: true });
        const probe = join(dir, `probe-${process.pid}-${randomBytes(4).toString('hex')}`);
        await writeFile(probe, 'ok');
        await unlink(probe);
        return { dir: root };
      })
      .withTimeout(this.settings.HEALTH_CHECK_TIMEOUT_MS);
  }

  notShuttingDown() {
    const session = this.indicators.check('shutdown');
    return this.shutdown.isShuttingDown ? session.down({ message: 'The process is shutting down' }) : session.up();
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
