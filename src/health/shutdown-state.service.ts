import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { HealthEnvironment } from './health.environment';

/**
 * Turns readiness off as soon as shutdown begins. Nest runs every `onModuleDestroy` hook before
 * any `beforeApplicationShutdown` hook (where the workers drain and the HTTP server closes), so
 * Kubernetes sees 503 and stops routing traffic while the app still serves.
 */
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private readonly logger = new Logger(ShutdownState.name);
  private draining = false;

  constructor(private readonly config: AppConfig) {}

  get isShuttingDown(): boolean {
    return this.draining;
  }

  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    const delay = this.config.section(HealthEnvironment).SHUTDOWN_READINESS_DELAY_MS;
    if (delay > 0 && this.config.runsApi) {
      this.logger.log(`Shutting down: readiness is now 503; serving ${delay} ms more so load balancers notice`);
      await sleep(delay);
    }
  }
}
