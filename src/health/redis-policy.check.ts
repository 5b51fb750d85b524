import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { redisOptionsFromUrl } from '../tasks/queue-transport';

/**
 * BullMQ keeps jobs and locks in Redis keys: a Redis that evicts keys under memory pressure
 * silently loses jobs. The old system ran Redis with AOF and noeviction; warn when this one does not.
 */
@Injectable()
export class RedisPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedisPolicyCheck.name);

  constructor(private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const url = this.config.env.REDIS_URL;
    if (!url) return;
    const redis = new Redis({
      ...redisOptionsFromUrl(url),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 3000,
    });
    try {
      await redis.connect();
      const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply?.[1];
      if (policy && policy !== 'noeviction') {
        this.logger.warn(
          `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queued jobs. Set maxmemory-policy noeviction.`,
        );
      }
    } catch (error) {
      // Managed Redis often forbids CONFIG; that is no reason to refuse to start.
      this.logger.log(`Could not read Redis maxmemory-policy (${error.message}); make sure it is noeviction`);
    } finally {
      redis.disconnect();
    }
  }
}
