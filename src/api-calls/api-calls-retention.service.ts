import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';

const PASS_INTERVAL_MS = 3600_000;
const BATCH = 5000;

/**
 * Deletes `api_calls` rows as old as the task records' retention (RESULT_EXPIRES_SECONDS), so
 * response bodies do not outlive the tasks they belong to. Runs in api processes; replicas
 * deleting at the same time only find less to delete.
 */
@Injectable()
export class ApiCallsRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiCallsRetention.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsApi) return;
    this.timer = setInterval(() => void this.expire().catch((error) => this.logger.warn(`api_calls retention pass failed: ${error.message}`)), PASS_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Deletes in batches (short transactions); returns how many rows went. */
  async expire(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.config.env.RESULT_EXPIRES_SECONDS * 1000);
    let total = 0;
    for (;;) {
      const [, deleted] = await this.dataSource.query(
        `DELETE FROM api_calls WHERE task_id IN (SELECT task_id FROM api_calls WHERE created_at < $1 LIMIT ${BATCH})`,
        [cutoff],
      );
      total += deleted;
      if (deleted < BATCH) break;
    }
    if (total > 0) this.logger.log(`Deleted ${total} api_calls records older than the retention period`);
    return total;
  }
}
