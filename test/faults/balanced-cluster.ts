import { Pool } from 'pg';
import { ApiClient } from '../support/api-client';
import { freePort, ServiceProcess, waitUntil } from '../support/processes';
import { SmtpSink } from '../support/smtp-sink';
import { FAULT_ADMIN_KEY, FaultStores } from './fault-stores';
import { Nginx } from './nginx';

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
  nginx!: Nginx;

  private constructor(private readonly stores: FaultStores) {}

  get smtp(): SmtpSink {
    return this.stores.smtp;
  }

  get db(): Pool {
    return this.stores.db;
  }

  static async start(apis: number, workers: number): Promise<BalancedCluster> {
    const cluster = new BalancedCluster(await FaultStores.start());
    try {
      await cluster.boot(apis, workers);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async boot(apis: number, workers: number): Promise<void> {
    await this.stores.createDatabase();
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
    return [this.stores.tail(chars), this.nginx?.tail(chars) ?? ''].join('\n');
  }

  async destroy(): Promise<void> {
    await this.stores.killProcesses();
    await this.nginx?.stop();
    await this.stores.destroy();
  }

  private async spawn(member: Omit<Member, 'process'>): Promise<ServiceProcess> {
    const child = await this.stores.spawn(member.role, member.port);
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
