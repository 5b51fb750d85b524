import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import {
  PrivatePostgres,
  RestartableServer,
  ServiceProcess,
  spawnService,
  startPrivatePostgres,
  startRestartableRedis,
} from '../support/processes';
import { SmtpSink } from '../support/smtp-sink';

export const FAULT_ADMIN_KEY = 'fault-suite-admin-key-0123456789';
export const API_READY = /Role api: listening on/;
export const WORKER_READY = 'workers running';

/**
 * What every process of a fault scenario shares: a PostgreSQL, a redis-server and an SMTP sink
 * of the scenario's own (so the scenario can stop them), a fresh database, one queue prefix,
 * and the service processes started on them (so `destroy` leaves nothing running).
 */
export class FaultStores {
  /** Every service process ever started on these stores. */
  readonly started: ServiceProcess[] = [];
  /** The environment every service process starts with; set by {@link createDatabase}. */
  env: Record<string, string | undefined> = {};
  /** A small pool on the scenario's database, for the invariants. */
  db!: Pool;

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: RestartableServer,
    readonly smtp: SmtpSink,
  ) {}

  static async start(): Promise<FaultStores> {
    const [postgres, redis, smtp] = await Promise.all([
      startPrivatePostgres(),
      startRestartableRedis(),
      SmtpSink.start({ keepMessages: true }),
    ]);
    return new FaultStores(postgres, redis, smtp);
  }

  /**
   * Creates the scenario's database and the environment of its processes; `transport` replaces
   * the redis-server when the scenario brings a Sentinel set or a cluster.
   */
  async createDatabase(transport: Record<string, string | undefined> = {}): Promise<void> {
    const database = `faults_${randomBytes(3).toString('hex')}`;
    const admin = new Client({ connectionString: this.postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    this.env = {
      PATH: process.env.PATH,
      DATABASE_URL: this.postgres.urlFor(database),
      REDIS_URL: this.redis.url,
      ...transport,
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
  }

  /** Starts a service process with `role` on `port`; resolves once it says it is ready. */
  async spawn(role: 'api' | 'worker', port: number): Promise<ServiceProcess> {
    const child = spawnService({ ...this.env, ROLE: role, PORT: String(port) });
    this.started.push(child);
    await child.waitFor(role === 'api' ? API_READY : WORKER_READY, 90_000);
    return child;
  }

  /** Output of every process, last lines first, for a failed assertion. */
  tail(chars = 3000): string {
    return this.started.map((p, i) => `--- process ${i} (pid ${p.child.pid})\n${p.output().slice(-chars)}`).join('\n');
  }

  /** SIGKILLs every process still running and waits for all of them to exit. */
  async killProcesses(): Promise<void> {
    for (const p of this.started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.started.map((p) => p.exited));
  }

  /** Closes the pool and stops the stores (call {@link killProcesses} first). */
  async destroy(): Promise<void> {
    await this.db?.end().catch(() => undefined);
    await Promise.all([this.postgres.destroy(), this.redis.stop(), this.smtp.stop()]);
  }
}
