import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { SingletonLoop } from '../../database/singleton-loop';
import { FILE_STORAGE, FileStorage } from '../storage/file-storage';

const BATCH = 200;

/**
 * Removes the bytes of expired exports. The tasks domain deletes expired task records; the
 * cascade deletes their `file_exports` rows, and a trigger lists each row's storage key in
 * `file_storage_garbage` in that same transaction (see the migration). This sweep deletes the
 * listed bytes, then the listing, on the reconciler's cadence. Replicas can sweep at once:
 * `SKIP LOCKED` gives each its own rows, and deleting missing bytes is not an error.
 */
@Injectable()
export class StorageGarbageSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageGarbageSweeper.name);
  private readonly loop: SingletonLoop<number>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    config: AppConfig,
  ) {
    this.loop = new SingletonLoop({
      name: 'Storage garbage sweep',
      logger: this.logger,
      intervalMs: config.env.RECONCILE_INTERVAL_MS,
      pass: () => this.sweepAll(),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass (or the pass already running); returns how many stored objects were removed. */
  async sweep(): Promise<number> {
    return (await this.loop.run()) ?? 0;
  }

  private async sweepAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.dataSource.transaction(async (manager) => {
        const rows: { storage_key: string }[] = await manager.query(
          `SELECT storage_key FROM file_storage_garbage ORDER BY deleted_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        );
        for (const { storage_key } of rows) await this.storage.delete(storage_key);
        if (rows.length > 0)
          await manager.query(`DELETE FROM file_storage_garbage WHERE storage_key = ANY($1)`, [
            rows.map((r) => r.storage_key),
          ]);
        return rows.length;
      });
      total += removed;
      if (removed < BATCH) break;
    }
    if (total > 0) this.logger.log(`Removed the bytes of ${total} expired export(s)`);
    return total;
  }
}
