import { DataSource } from 'typeorm';
import { ApiClient } from './api-client';
import { freePort, ServiceProcess, spawnService } from './processes';
import { startTestService, testEnvironment, TestService } from './test-service';

/** What a worker process prints once its workers take jobs. */
export const WORKER_READY = 'workers running';

/**
 * An api in this process and worker processes that a test can kill. They share one
 * environment: a child takes the api's jobs only with the api's QUEUE_PREFIX.
 */
export class ApiWithWorkerProcesses {
  /** The worker processes started and not yet killed by {@link killWorkers}. */
  readonly workers: ServiceProcess[] = [];

  private constructor(
    readonly api: TestService,
    readonly env: Record<string, string | undefined>,
  ) {}

  /** Starts the api (ROLE=api, info logs) with `overrides` on top of the test environment. */
  static async start(overrides: Record<string, string | undefined> = {}): Promise<ApiWithWorkerProcesses> {
    const env = testEnvironment({ ROLE: 'api', LOG_LEVEL: 'info', ...overrides });
    return new ApiWithWorkerProcesses(await startTestService(env), env);
  }

  /** A client of the api with the admin key. */
  get admin(): ApiClient {
    return this.api.admin;
  }

  get db(): DataSource {
    return this.api.service.app.get(DataSource);
  }

  /** Starts a worker process with `overrides` on the shared environment; resolves once `ready` is in its output. */
  async startWorker(
    overrides: Record<string, string | undefined> = {},
    ready: string | RegExp = WORKER_READY,
    timeoutMs?: number,
  ): Promise<ServiceProcess> {
    const worker = spawnService({ ...this.env, ROLE: 'worker', PORT: String(await freePort()), ...overrides });
    this.workers.push(worker);
    await worker.waitFor(ready, timeoutMs);
    return worker;
  }

  /** SIGKILLs `worker` and resolves once it has exited. */
  async kill(worker: ServiceProcess): Promise<void> {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  /** SIGKILLs every worker started so far. */
  killWorkers(): void {
    this.workers.splice(0).forEach((w) => w.child.kill('SIGKILL'));
  }

  async stop(): Promise<void> {
    this.killWorkers();
    await this.api.stop();
  }
}
