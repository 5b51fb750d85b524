import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { ApiClient } from '../support/api-client';
import {
  freePort,
  PrivatePostgres,
  RestartableServer,
  ServiceProcess,
  spawnService,
  startPrivatePostgres,
  startRestartableRedis,
} from '../support/processes';
import { RedisTopologyUnderTest } from '../support/redis-topology';
import { SmtpSink } from '../support/smtp-sink';

export const FAULT_ADMIN_KEY = 'fault-suite-admin-key-0123456789';
const API_READY = /Role api: listening on/;
const WORKER_READY = 'workers running';

/**
 * What a fault scenario runs on: its own PostgreSQL and redis-server (so the scenario can stop
 * them), an SMTP sink, one API process and a few worker processes, all built from this run's
 * build and sharing one database and queue prefix.
 */
export class FaultCluster {
  readonly workers: ServiceProcess[] = [];
  /** Every process ever started, so `destroy` leaves nothing running. */
  private readonly started: ServiceProcess[] = [];
  private readonly killed = new Set<ServiceProcess>();
  api!: ServiceProcess;
  client!: ApiClient;
  db!: Pool;
  private env: Record<string, string | undefined> = {};
  private apiPort = 0;
  /** A Sentinel set or a cluster the services use instead of `redis`, when the scenario brings one. */
  topology?: RedisTopologyUnderTest;

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: RestartableServer,
    readonly smtp: SmtpSink,
  ) {}

  static async start(workerCount: number, topology?: () => Promise<RedisTopologyUnderTest>): Promise<FaultCluster> {
    const [postgres, redis, smtp] = await Promise.all([
      startPrivatePostgres(),
      startRestartableRedis(),
      SmtpSink.start({ keepMessages: true }),
    ]);
    const cluster = new FaultCluster(postgres, redis, smtp);
    try {
      cluster.topology = await topology?.();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    try {
      await cluster.boot(workerCount);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async boot(workerCount: number): Promise<void> {
    const database = `faults_${randomBytes(3).toString('hex')}`;
    const admin = new Client({ connectionString: this.postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    this.apiPort = await freePort();
    this.env = {
      PATH: process.env.PATH,
      DATABASE_URL: this.postgres.urlFor(database),
      REDIS_URL: this.redis.url,
      ...this.topology?.env,
      QUEUE_PREFIX: `faults-${randomBytes(3).toString('hex')}`,
      ADMIN_API_KEY: FAULT_ADMIN_KEY,
      SMTP_URL: this.smtp.url,
      LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'info',
      DATA_DIR: `/tmp/task-service-faults/${database}`,
      JOB_LOCK_MS: '5000',
      STATS_SCHEDULE: 'false',
      SHUTDOWN_GRACE_MS: '15000',
      // A Redis that came back empty is refilled from the records within seconds.
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_MIN_AGE_MS: '3000',
    };
    this.db = new Pool({ connectionString: this.env.DATABASE_URL, max: 3 });
    // A pool error (the database went away under an idle client) must not crash the harness.
    this.db.on('error', () => undefined);
    // The API first: it runs the migrations the workers then find done.
    this.api = await this.spawnApi();
    this.client = new ApiClient(`http://127.0.0.1:${this.apiPort}`, FAULT_ADMIN_KEY);
    this.workers.push(...(await Promise.all(Array.from({ length: workerCount }, () => this.spawnWorker()))));
  }

  /**
   * Sends `signal` to worker `index` and, at the same time, starts its replacement (a rolling
   * update with one pod unavailable and one surging); returns the old worker's exit code.
   */
  async replaceWorker(index: number, signal: NodeJS.Signals): Promise<number | null> {
    const old = this.workers[index];
    if (signal === 'SIGKILL') this.killed.add(old);
    old.child.kill(signal);
    const [code, fresh] = await Promise.all([old.exited, this.spawnWorker()]);
    this.workers[index] = fresh;
    return code;
  }

  /** SIGTERMs the API, waits for its exit and starts it again on the same port. */
  async replaceApi(): Promise<number | null> {
    this.api.child.kill('SIGTERM');
    const code = await this.api.exited;
    this.api = await this.spawnApi();
    return code;
  }

  /** Output of every process, last lines first, for a failed assertion. */
  tail(chars = 3000): string {
    return this.started.map((p, i) => `--- process ${i} (pid ${p.child.pid})\n${p.output().slice(-chars)}`).join('\n');
  }

  /** Whether a SIGKILLed process had started task `id` and never logged how that attempt ended. */
  cutByKill(id: string): boolean {
    return [...this.killed].some((p) => {
      const lines = p
        .output()
        .split('\n')
        .filter((line) => line.includes(id));
      const started = lines.filter((line) => line.includes('"Task started"')).length;
      const ended = lines.filter((line) => /"Task (succeeded|failed)/.test(line)).length;
      return started > ended;
    });
  }

  /** Every output line of every process that mentions `text` (a task id), oldest process first. */
  linesMentioning(text: string): string[] {
    return this.started.flatMap((p) =>
      p
        .output()
        .split('\n')
        .filter((line) => line.includes(text))
        .map((line) => `[pid ${p.child.pid}] ${line.slice(0, 600)}`),
    );
  }

  async destroy(): Promise<void> {
    for (const p of this.started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.started.map((p) => p.exited));
    await this.db?.end().catch(() => undefined);
    await Promise.all([this.postgres.destroy(), this.redis.stop(), this.smtp.stop(), this.topology?.destroy()]);
  }

  private async spawnApi(): Promise<ServiceProcess> {
    const api = spawnService({ ...this.env, ROLE: 'api', PORT: String(this.apiPort) });
    this.started.push(api);
    await api.waitFor(API_READY, 90_000);
    return api;
  }

  private async spawnWorker(): Promise<ServiceProcess> {
    const worker = spawnService({ ...this.env, ROLE: 'worker', PORT: String(await freePort()) });
    this.started.push(worker);
    await worker.waitFor(WORKER_READY, 90_000);
    return worker;
  }
}
