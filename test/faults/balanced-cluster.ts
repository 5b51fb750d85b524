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
  waitUntil,
} from '../support/processes';
import { SmtpSink } from '../support/smtp-sink';
import { FAULT_ADMIN_KEY } from './cluster';
import { Nginx } from './nginx';

const API_READY = /Role api: listening on/;
const WORKER_READY = 'workers running';

export interface Member {
  label: string;
  role: 'api' | 'worker';
  port: number;
  process: ServiceProcess;
}

/** How long one restart took: SIGTERM to exit, start to ready, ready to nginx's first request to it. */
export interface Restart {
  label: string;
  round: number;
  exitCode: number | null;
  drainMs: number;
  bootMs: number;
  /** API processes only: until nginx sent it a request again (it skipped it while it was down). */
  backInRotationMs?: number;
}

/**
 * A deployment without Kubernetes: PostgreSQL, Redis and an SMTP sink of their own, API
 * processes (ROLE=api) on fixed ports behind nginx with the shipped `deploy/nginx` config, and
 * worker processes (ROLE=worker).
 */
export class BalancedCluster {
  readonly members: Member[] = [];
  private readonly started: ServiceProcess[] = [];
  private env: Record<string, string | undefined> = {};
  nginx!: Nginx;
  db!: Pool;

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: RestartableServer,
    readonly smtp: SmtpSink,
  ) {}

  static async start(apis: number, workers: number): Promise<BalancedCluster> {
    const [postgres, redis, smtp] = await Promise.all([
      startPrivatePostgres(),
      startRestartableRedis(),
      SmtpSink.start({ keepMessages: true }),
    ]);
    const cluster = new BalancedCluster(postgres, redis, smtp);
    try {
      await cluster.boot(apis, workers);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async boot(apis: number, workers: number): Promise<void> {
    const database = `faults_${randomBytes(3).toString('hex')}`;
    const admin = new Client({ connectionString: this.postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    this.env = {
      PATH: process.env.PATH,
      DATABASE_URL: this.postgres.urlFor(database),
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: `faults-${randomBytes(3).toString('hex')}`,
      ADMIN_API_KEY: FAULT_ADMIN_KEY,
      SMTP_URL: this.smtp.url,
      LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'info',
      DATA_DIR: `/tmp/task-service-faults/${database}`,
      JOB_LOCK_MS: '5000',
      STATS_SCHEDULE: 'false',
      SHUTDOWN_GRACE_MS: '15000',
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_MIN_AGE_MS: '3000',
    };
    this.db = new Pool({ connectionString: this.env.DATABASE_URL, max: 3 });
    this.db.on('error', () => undefined);
    const spec: Omit<Member, 'process'>[] = [
      ...Array.from({ length: apis }, (_, i) => ({ label: `api ${i}`, role: 'api' as const, port: 0 })),
      ...Array.from({ length: workers }, (_, i) => ({ label: `worker ${i}`, role: 'worker' as const, port: 0 })),
    ];
    for (const member of spec) member.port = await freePort();
    // The first API process runs the migrations the others then find done.
    this.members.push({ ...spec[0], process: await this.spawn(spec[0]) });
    const rest = await Promise.all(spec.slice(1).map(async (m) => ({ ...m, process: await this.spawn(m) })));
    this.members.push(...rest);
    this.nginx = await Nginx.start(this.apis().map((m) => m.port));
  }

  apis(): Member[] {
    return this.members.filter((m) => m.role === 'api');
  }

  client(): ApiClient {
    return new ApiClient(this.nginx.url, FAULT_ADMIN_KEY);
  }

  /**
   * SIGTERM, wait for the exit, start again on the same port, wait until ready. For an API
   * process, `backInRotation` resolves once nginx sends it a request again: a rolling restart
   * must wait for that before it stops the next API process (task-service.upstreams.conf says why).
   */
  async restart(member: Member, round: number): Promise<{ restart: Restart; backInRotation?: Promise<number> }> {
    const signalled = Date.now();
    member.process.child.kill('SIGTERM');
    const exitCode = await member.process.exited;
    const exitedAt = Date.now();
    const seen = this.nginx.requests().length;
    member.process = await this.spawn(member);
    const readyAt = Date.now();
    const restart = { label: member.label, round, exitCode, drainMs: exitedAt - signalled, bootMs: readyAt - exitedAt };
    if (member.role === 'worker') return { restart };
    const address = `127.0.0.1:${member.port}`;
    const backInRotation = waitUntil(
      async () =>
        this.nginx
          .requests()
          .slice(seen)
          .some((r) => r.attempts.some((a) => a.upstream === address && /^[1-4]\d\d$/.test(a.status))),
      this.nginx.failTimeoutMs * 3 + 10_000,
    ).then(() => Date.now() - readyAt);
    return { restart, backInRotation };
  }

  /** API and worker processes alternately, so a worker restarts while nginx takes an API process back. */
  restartOrder(): Member[] {
    const apis = this.apis();
    const workers = this.members.filter((m) => m.role === 'worker');
    return Array.from({ length: Math.max(apis.length, workers.length) }, (_, i) => [apis[i], workers[i]])
      .flat()
      .filter((m): m is Member => m !== undefined);
  }

  tail(chars = 3000): string {
    const processes = this.started.map((p, i) => `--- process ${i} (pid ${p.child.pid})\n${p.output().slice(-chars)}`);
    return [...processes, this.nginx?.tail(chars) ?? ''].join('\n');
  }

  async destroy(): Promise<void> {
    for (const p of this.started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.started.map((p) => p.exited));
    await this.nginx?.stop();
    await this.db?.end().catch(() => undefined);
    await Promise.all([this.postgres.destroy(), this.redis.stop(), this.smtp.stop()]);
  }

  private async spawn(member: Omit<Member, 'process'>): Promise<ServiceProcess> {
    const child = spawnService({ ...this.env, ROLE: member.role, PORT: String(member.port) });
    this.started.push(child);
    await child.waitFor(member.role === 'api' ? API_READY : WORKER_READY, 90_000);
    // What a rollout waits for before it moves on: the readiness probe, on the process's own port.
    await waitUntil(async () => (await probe(`http://127.0.0.1:${member.port}/health/ready`)) === 200, 30_000);
    return child;
  }
}

async function probe(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
}
