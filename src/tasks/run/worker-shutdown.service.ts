import { WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { StoreHealth } from '../store-health';

export const QUEUE_PROCESSORS = Symbol('QUEUE_PROCESSORS');

/**
 * Graceful stop for workers: on SIGTERM they take no new jobs and active ones get the grace
 * period to finish; only then are the rest forced (they are re-run after their lock expires).
 */
@Injectable()
export class WorkerShutdown implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerShutdown.name);

  constructor(
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
    private readonly stores: StoreHealth,
  ) {}

  onApplicationBootstrap(): void {
    // A worker without an 'error' listener prints every reconnect failure of a transport outage;
    // StoreHealth logs the outage once instead (and its probe notices the recovery).
    for (const worker of this.workers()) worker.on('error', (error) => this.stores.markDown('transport', error));
  }

  /** The BullMQ workers of this process (empty in the api role). */
  workers() {
    const processors = this.moduleRef.get<Type<WorkerHost>[]>(QUEUE_PROCESSORS, { strict: false });
    return processors.map((cls) => this.moduleRef.get(cls, { strict: false }).worker).filter(Boolean);
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const workers = this.workers();
    if (workers.length === 0) return;
    const grace = this.config.env.SHUTDOWN_GRACE_MS;
    this.logger.log(
      `Stopping ${workers.length} worker(s) (${signal ?? 'shutdown'}); active tasks get ${grace} ms to finish`,
    );
    const closing = Promise.all(workers.map((w) => w.close()));
    const timedOut = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), grace).unref()),
    ]);
    if (timedOut) {
      this.logger.warn('Grace period over: closing workers with tasks still active; they will run again elsewhere');
      await Promise.all(workers.map((w) => w.close(true)));
    }
  }
}
