import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { createRedisClient } from '../tasks/queues/queue-transport';

/**
 * BullMQ keeps jobs and locks in Redis keys: a Redis that evicts keys under memory pressure
 * silently loses jobs. The old system ran Redis with AOF and noeviction; warn when this one does
 * not. On a cluster every master is asked, since each holds some of the queues.
 */
@Injectable()
export class RedisPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedisPolicyCheck.name);

  constructor(private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.usesRedis) return;
    const redis = createRedisClient(this.config, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
    // A cluster that cannot be reached would otherwise retry (and log) for ever in the background.
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const masters = redis instanceof Cluster ? redis.nodes('master') : [redis];
      for (const node of masters) await this.checkPolicy(node);
    } catch (error) {
      // Managed Redis often forbids CONFIG; that is no reason to refuse to start.
      this.logger.log(`Could not read Redis maxmemory-policy (${error.message}); make sure it is noeviction`);
    } finally {
      redis.disconnect();
    }
  }

  private async checkPolicy(node: Redis): Promise<void> {
    const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply?.[1];
    if (policy && policy !== 'noeviction') {
      const where = `${node.options.host}:${node.options.port}`;
      this.logger.warn(
        `Redis maxmemory-policy is "${policy}" on ${where}, not "noeviction": under memory pressure Redis may evict queued jobs. Set maxmemory-policy noeviction.`,
      );
    }
  }
}
