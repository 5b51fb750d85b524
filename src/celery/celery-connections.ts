import { Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { hostname } from 'node:os';
import { AppConfig } from '../config/app-config';
import { CeleryEnvironment } from './celery.environment';
import { CeleryResultBackend } from './celery-result-backend';
import { KombuRedisConsumer } from './kombu-redis-consumer';

/** The old Celery system's queues: those of its task_routes, and Celery's default queue. */
export const CELERY_QUEUES = ['file_tasks', 'email_tasks', 'api_calls', 'credits', 'export', 'celery'];

/**
 * The ingress's Redis connections (broker commands, the blocking pop, the pidbox subscription,
 * the result backend) and what they are built from.
 */
@Injectable()
export class CeleryConnections {
  private readonly logger = new Logger(CeleryConnections.name);
  readonly settings: CeleryEnvironment;
  readonly queues: string[];
  /** This process's Celery node name, as `inspect` prints it. */
  readonly nodeName: string;
  readonly broker: Redis;
  readonly subscriber: Redis;
  readonly consumer: KombuRedisConsumer;
  readonly backend: CeleryResultBackend;
  private readonly blocking: Redis;
  private readonly results: Redis;

  constructor(config: AppConfig) {
    this.settings = config.section(CeleryEnvironment);
    const url = this.settings.CELERY_BROKER_URL!;
    const extra = (this.settings.CELERY_QUEUES ?? '')
      .split(',')
      .map((q) => q.trim())
      .filter(Boolean);
    this.queues = [...new Set([...CELERY_QUEUES, ...extra])];
    this.nodeName = `${this.settings.CELERY_WORKER_NAME}-${process.pid}@${hostname()}`;
    const open = (name: string, target = url) => {
      const redis = new Redis(target, { maxRetriesPerRequest: null, connectionName: `celery-ingress-${name}` });
      redis.on('error', (error) => this.logger.warn(`Celery ${name} connection: ${error.message}`));
      return redis;
    };
    this.broker = open('broker');
    this.blocking = open('brpop');
    this.subscriber = open('pidbox');
    this.results = open('results', this.settings.CELERY_RESULT_BACKEND ?? url);
    this.consumer = new KombuRedisConsumer(
      this.broker,
      this.blocking,
      this.queues,
      this.settings.CELERY_VISIBILITY_TIMEOUT,
    );
    this.backend = new CeleryResultBackend(this.results, this.settings.CELERY_RESULT_EXPIRES);
  }

  /** The broker's database number, part of kombu's fanout channel names. */
  get db(): number {
    return this.broker.options.db ?? 0;
  }

  /** Closes every connection (the ingress calls it last, after restoring what it held). */
  async close(): Promise<void> {
    // The blocking pop may be waiting: disconnect rather than quit.
    this.blocking.disconnect();
    await Promise.all([this.broker, this.subscriber, this.results].map((r) => r.quit().catch(() => undefined)));
  }
}
