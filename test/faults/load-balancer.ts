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
import { BalancedLoad } from './balanced-load';
import { FAULT_ADMIN_KEY } from './cluster';
import { judge, Verdict } from './invariants';
import { Nginx } from './nginx';
import type { FaultTimings } from './scenarios';

const API_READY = /Role api: listening on/;
const WORKER_READY = 'workers running';
const API_PROCESSES = 2;
const WORKER_PROCESSES = 3;

export const LOAD_BALANCER_TITLE =
  '2 API and 3 worker processes behind nginx, each SIGTERMed and restarted in turn, twice';

interface Member {
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
class BalancedCluster {
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

  static async start(workers: number): Promise<BalancedCluster> {
    const [postgres, redis, smtp] = await Promise.all([
      startPrivatePostgres(),
      startRestartableRedis(),
      SmtpSink.start({ keepMessages: true }),
    ]);
    const cluster = new BalancedCluster(postgres, redis, smtp);
    try {
      await cluster.boot(workers);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async boot(workers: number): Promise<void> {
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
      ...Array.from({ length: API_PROCESSES }, (_, i) => ({ label: `api ${i}`, role: 'api' as const, port: 0 })),
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
    return child;
  }
}

/**
 * The load-balancer scenario: the client submits (each POST with an Idempotency-Key) and
 * long-polls through nginx while every process is restarted in turn, twice. Beyond the fault
 * suite's invariants, not one request may fail: nginx must send a request a stopping process
 * refused or reset to the other API process, and the processes must drain what they accepted.
 */
export async function runLoadBalancerScenario(
  timings: FaultTimings,
  log: (line: string) => void,
): Promise<Verdict & { logTail?: string }> {
  log(`loadBalancer: starting ${API_PROCESSES} API and ${WORKER_PROCESSES} worker processes behind nginx`);
  const cluster = await BalancedCluster.start(WORKER_PROCESSES);
  try {
    const client = cluster.client();
    const accounts = await Promise.all([20, 1_000_000, 1_000_000].map((amount) => openAccount(client, amount)));
    const load = new BalancedLoad({
      baseUrl: cluster.nginx.url,
      apiKey: FAULT_ADMIN_KEY,
      ratePerSecond: timings.ratePerSecond,
      submitters: 4,
      pollers: 2,
      accounts,
    });
    load.start();
    await sleep(timings.warmupMs);
    log(`loadBalancer: ${LOAD_BALANCER_TITLE}`);
    const problems: string[] = [];
    const restarts: Restart[] = [];
    const start = Date.now();
    try {
      // Never two API processes out of nginx's rotation at once: that is a 502 for every client.
      let rotation = Promise.resolve();
      for (let round = 1; round <= 2; round++) {
        for (const member of cluster.restartOrder()) {
          if (member.role === 'api') await rotation;
          const { restart, backInRotation } = await cluster.restart(member, round);
          restarts.push(restart);
          log(`loadBalancer: ${describe(restart)}`);
          if (restart.exitCode !== 0)
            problems.push(`${member.label} exited ${restart.exitCode} on SIGTERM (round ${round})`);
          if (backInRotation)
            rotation = backInRotation.then((ms) => {
              restart.backInRotationMs = ms;
              log(`loadBalancer: ${member.label} (round ${round}) back in nginx's rotation ${ms} ms after ready`);
            });
        }
      }
      await rotation;
    } catch (error) {
      await load.stop();
      throw error;
    }
    const window = { start, end: Date.now() };
    log(`loadBalancer: restarts over after ${window.end - window.start} ms; cooling down`);
    await sleep(timings.cooldownMs);
    await load.stop();

    const verdict = await judge(cluster.db, cluster.smtp, load.submits, window, {
      allow503: false,
      allowUnanswered: false,
      settleTimeoutMs: timings.settleTimeoutMs,
    });
    const failedPolls = load.polls.filter((r) => r.status === 0 || r.status >= 400);
    if (failedPolls.length > 0)
      problems.push(
        `${failedPolls.length} polls failed; first: ${failedPolls[0].status || 'no answer'} ${failedPolls[0].error}`,
      );
    verdict.problems.unshift(...problems);
    log(`loadBalancer: ${summariseRestarts(restarts)}`);
    const retried = cluster.nginx.requests().filter((r) => r.attempts.length > 1);
    log(
      `loadBalancer: ${load.submits.length + load.polls.length} requests (${load.submits.length} submits, ` +
        `${load.polls.length} polls), ${load.failures().length} failed; nginx sent ${retried.length} on to the ` +
        `other process (${retried.filter((r) => r.request.startsWith('POST')).length} POSTs), ` +
        `${load.replayed} submits answered by their Idempotency-Key; nginx's reasons: ` +
        JSON.stringify(cluster.nginx.upstreamErrors()),
    );
    return {
      ...verdict,
      logTail: verdict.problems.length > 0 ? cluster.tail() : undefined,
    };
  } finally {
    await cluster.destroy();
  }
}

function describe(r: Restart): string {
  return `${r.label} (round ${r.round}): exited ${r.exitCode} ${r.drainMs} ms after SIGTERM, ready ${r.bootMs} ms after restart`;
}

function summariseRestarts(restarts: Restart[]): string {
  const range = (values: number[]) => (values.length === 0 ? '-' : `${Math.min(...values)}–${Math.max(...values)} ms`);
  const of = (role: string) => restarts.filter((r) => r.label.startsWith(role));
  return (
    `${restarts.length} restarts; SIGTERM to exit: API ${range(of('api').map((r) => r.drainMs))}, ` +
    `workers ${range(of('worker').map((r) => r.drainMs))}; start to ready: API ${range(of('api').map((r) => r.bootMs))}, ` +
    `workers ${range(of('worker').map((r) => r.bootMs))}; ready to back in nginx's rotation: ` +
    range(of('api').flatMap((r) => (r.backInRotationMs === undefined ? [] : [r.backInRotationMs])))
  );
}

async function openAccount(client: ApiClient, amount: number): Promise<string> {
  const response = await client.post('/credits/accounts', { openingGrant: { amount } });
  if (response.status !== 201)
    throw new Error(`Opening an account gave ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.id;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
