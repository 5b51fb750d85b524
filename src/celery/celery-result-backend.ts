import { Logger } from '@nestjs/common';
import Redis from 'ioredis';

/**
 * Writes task states in Celery's Redis result-backend format: `celery-task-meta-<id>` SET with
 * an expiry and PUBLISHed on the channel of the same name in one pipeline, so `AsyncResult`'s
 * GET and its pub/sub wait both see it. States stored in one turn of the event loop go out in one
 * pipeline, in order.
 */
export class CeleryResultBackend {
  private readonly logger = new Logger(CeleryResultBackend.name);
  private pending: [string, string][] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly expiresS: number,
  ) {}

  static key(id: string): string {
    return `celery-task-meta-${id}`;
  }

  /** Queues `meta` for task `id`; resolves once it is written (errors are logged, not thrown). */
  store(id: string, meta: Record<string, unknown>): Promise<void> {
    this.pending.push([CeleryResultBackend.key(id), JSON.stringify(meta)]);
    if (!this.scheduled) {
      this.scheduled = true;
      const previous = this.flushing;
      this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => previous)
        .then(() => this.flush());
    }
    return this.flushing;
  }

  /** Resolves when everything stored so far is written. */
  drain(): Promise<void> {
    return this.flushing;
  }

  /** Which of `ids` have no result in the backend (never written, or expired). */
  async missing(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.exists(CeleryResultBackend.key(id));
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    return ids.filter((_, i) => replies[i][1] === 0);
  }

  /** A small JSON value kept beside the results (the result repair's place). */
  async read<T>(key: string): Promise<T | null> {
    const value = await this.redis.get(key);
    return value === null ? null : (JSON.parse(value) as T);
  }

  async write(key: string, value: unknown): Promise<void> {
    await this.redis.set(key, JSON.stringify(value));
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, value] of batch) pipeline.set(key, value, 'EX', this.expiresS).publish(key, value);
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      this.logger.error(`Could not write ${batch.length} Celery result(s): ${(error as Error).message}`);
    }
  }
}
