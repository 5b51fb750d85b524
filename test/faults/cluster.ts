import { Pool } from 'pg';
import { ApiClient } from '../support/api-client';
import { freePort, PrivatePostgres, RestartableServer, ServiceProcess } from '../support/processes';
import { RedisTopologyUnderTest } from '../support/redis-topology';
import { SmtpSink } from '../support/smtp-sink';
import { FAULT_ADMIN_KEY, FaultStores } from './fault-stores';

export { FAULT_ADMIN_KEY };

/**
 * What a fault scenario runs on: its own PostgreSQL and redis-server (so the scenario can stop
 * them), an SMTP sink, one API process and a few worker processes, all built from this run's
 * build and sharing one database and queue prefix.
 */
export class FaultCluster {
  readonly workers: ServiceProcess[] = [];
  private readonly killed = new Set<ServiceProcess>();
  api!: ServiceProcess;
  client!: ApiClient;
  private apiPort = 0;
  /** A Sentinel set or a cluster the services use instead of `redis`, when the scenario brings one. */
  topology?: RedisTopologyUnderTest;

  private constructor(private readonly stores: FaultStores) {}

  get postgres(): PrivatePostgres {
    return this.stores.postgres;
  }

  get redis(): RestartableServer {
    return this.stores.redis;
  }

  get smtp(): SmtpSink {
    return this.stores.smtp;
  }

  get db(): Pool {
    return this.stores.db;
  }

  static async start(workerCount: number, topology?: () => Promise<RedisTopologyUnderTest>): Promise<FaultCluster> {
    const cluster = new FaultCluster(await FaultStores.start());
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
    await this.stores.createDatabase(this.topology?.env);
    this.apiPort = await freePort();
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
    return this.stores.tail(chars);
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
    return this.stores.started.flatMap((p) =>
      p
        .output()
        .split('\n')
        .filter((line) => line.includes(text))
        .map((line) => `[pid ${p.child.pid}] ${line.slice(0, 600)}`),
    );
  }

  async destroy(): Promise<void> {
    await this.stores.killProcesses();
    await Promise.all([this.stores.destroy(), this.topology?.destroy()]);
  }

  private spawnApi(): Promise<ServiceProcess> {
    return this.stores.spawn('api', this.apiPort);
  }

  private async spawnWorker(): Promise<ServiceProcess> {
    return this.stores.spawn('worker', await freePort());
  }
}
