import { ConnectionOptions, createPostgresBackend, createRedisBackend, setDefaultBackendFactory } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { TaskRouter } from './task-routes';
import { KNOWN_QUEUES } from './queue-names';

/** How queues and workers reach the transport (Redis or PostgreSQL), as {@link configureTransport} returns it. */
export type QueueConnection = ConnectionOptions;

/** The schema BullMQ's PostgreSQL backend keeps its tables in, apart from ours. */
export const BULLMQ_SCHEMA = 'bullmq';

/** `redis://user:pass@host:port/db` → ioredis options. */
export function redisOptionsFromUrl(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    // Workers block on Redis; BullMQ requires unlimited retries per request for them.
    maxRetriesPerRequest: null,
  };
}

/**
 * Chooses the queue transport for the whole process: Redis when `REDIS_URL` is set, else
 * BullMQ's PostgreSQL backend on our database. @nestjs/bullmq cannot pass a backend per queue,
 * so this sets BullMQ's process-wide default before any queue is created.
 */
export function configureTransport(config: AppConfig): QueueConnection {
  if (config.env.REDIS_URL) {
    setDefaultBackendFactory(createRedisBackend);
    return redisOptionsFromUrl(config.env.REDIS_URL) as ConnectionOptions;
  }
  setDefaultBackendFactory(createPostgresBackend as never);
  return {
    connectionString: config.databaseUrl,
    schema: BULLMQ_SCHEMA,
    migrate: true,
    max: 4,
  } as unknown as ConnectionOptions;
}

/** The transport in one phrase, for the start-up log line. */
export function describeTransport(config: AppConfig): string {
  if (config.env.REDIS_URL) {
    const url = new URL(config.env.REDIS_URL);
    return `Redis at ${url.hostname}:${url.port || 6379}`;
  }
  return 'BullMQ PostgreSQL backend (no REDIS_URL)';
}

/** Every queue this deployment knows: the old system's and any a route points at. */
export function allQueues(config: AppConfig): string[] {
  return [...new Set([...KNOWN_QUEUES, ...TaskRouter.fromConfig(config).queues()])];
}
