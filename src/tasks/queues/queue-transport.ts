import {
  ConnectionOptions,
  createIORedisClient,
  createPostgresBackend,
  createRedisBackend,
  RedisConnection,
  setDefaultBackendFactory,
} from 'bullmq';
import Redis, { Cluster, ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { parseRedisNodes, RedisNode } from '../../config/redis-topology.rules';
import { TaskRouter } from './task-routes';
import { KNOWN_QUEUES } from '../queue-names';

/** How queues and workers reach the transport (Redis or PostgreSQL), as {@link configureTransport} returns it. */
export type QueueConnection = ConnectionOptions;

/** The schema BullMQ's PostgreSQL backend keeps its tables in, apart from ours. */
export const BULLMQ_SCHEMA = 'bullmq';

/** Which Redis the configuration names, with what ioredis needs to reach it. */
export type RedisTopology =
  | { kind: 'single'; options: RedisOptions }
  | { kind: 'sentinel'; master: string; sentinels: RedisNode[]; options: RedisOptions }
  | { kind: 'cluster'; nodes: RedisNode[]; options: RedisOptions };

/**
 * Marks BullMQ connection options as a cluster's: {@link RedisConnection.clientFactory} then
 * builds an ioredis `Cluster` from them. Options rather than one shared `Cluster` instance, so
 * each queue and worker owns (and closes) its connections, as with a single node.
 */
const CLUSTER_NODES = 'taskServiceClusterNodes';

/** Masters of the cluster, as the last cluster connection that became ready saw them. */
let observedMasters: number | undefined;

/** `redis://user:pass@host:port/db` → ioredis options. */
export function redisOptionsFromUrl(url: string): RedisOptions {
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

/** The Redis of this deployment (`REDIS_URL`, `REDIS_SENTINELS` or `REDIS_CLUSTER_NODES`), or null when there is none. */
export function redisTopology(config: AppConfig): RedisTopology | null {
  const env = config.env;
  if (env.REDIS_URL) return { kind: 'single', options: redisOptionsFromUrl(env.REDIS_URL) };
  if (env.REDIS_SENTINELS) {
    const { nodes, tls } = parseRedisNodes(env.REDIS_SENTINELS);
    const master = env.REDIS_SENTINEL_MASTER!;
    return {
      kind: 'sentinel',
      master,
      sentinels: nodes,
      options: {
        sentinels: nodes,
        name: master,
        password: env.REDIS_PASSWORD,
        sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
        tls: tls ? {} : undefined,
        sentinelTLS: tls ? {} : undefined,
        enableTLSForSentinelMode: tls,
        // No `failoverDetector`: its +switch-master handler can close a connection that is already
        // reconnecting, and ioredis then ends it for good ("Connection is closed." for ever after,
        // seen in the fault suite). A dead master closes its connections anyway, and a demoted one
        // drops its clients when Sentinel reconfigures it.
        // BullMQ's default backs off to 20 s between attempts; a failover wants the new master at once.
        retryStrategy: reconnectDelay,
        maxRetriesPerRequest: null,
      },
    };
  }
  if (env.REDIS_CLUSTER_NODES) {
    const { nodes, tls } = parseRedisNodes(env.REDIS_CLUSTER_NODES);
    return {
      kind: 'cluster',
      nodes,
      options: { password: env.REDIS_PASSWORD, tls: tls ? {} : undefined, maxRetriesPerRequest: null },
    };
  }
  return null;
}

/**
 * Chooses the queue transport for the whole process: Redis when one is configured (one node,
 * Sentinel or Cluster), else BullMQ's PostgreSQL backend on our database. @nestjs/bullmq cannot
 * pass a backend per queue, so this sets BullMQ's process-wide default before any queue is created.
 */
export function configureTransport(config: AppConfig): QueueConnection {
  const topology = redisTopology(config);
  // Another service in this process (a test) may have configured a cluster before.
  if (RedisConnection.clientFactory === bullClientFactory) RedisConnection.clientFactory = undefined;
  if (topology) {
    setDefaultBackendFactory(createRedisBackend);
    if (topology.kind !== 'cluster') return topology.options as ConnectionOptions;
    RedisConnection.clientFactory = bullClientFactory;
    return { ...topology.options, [CLUSTER_NODES]: topology.nodes } as ConnectionOptions;
  }
  setDefaultBackendFactory(createPostgresBackend as never);
  return {
    connectionString: config.databaseUrl,
    schema: BULLMQ_SCHEMA,
    migrate: true,
    max: 4,
  } as unknown as ConnectionOptions;
}

/**
 * BullMQ's key prefix for `queue`. On a cluster every key of one queue must hash to one slot
 * (BullMQ's scripts touch several keys at once), so the prefix is a hash tag of its own per
 * queue, `{bull:file_tasks}`: a queue's keys stay together and the queues spread over the slots.
 * Elsewhere the keys keep the plain prefix they always had.
 */
export function queuePrefix(config: AppConfig, queue: string): string {
  const prefix = config.env.QUEUE_PREFIX;
  return config.env.REDIS_CLUSTER_NODES ? `{${prefix}:${queue}}` : prefix;
}

/**
 * A connection of our own to the configured Redis (the health checks'), built as the queues'
 * are, with `overrides` for its options: a `Redis` for one node or Sentinel, a `Cluster` for a cluster.
 */
export function createRedisClient(config: AppConfig, overrides: RedisOptions = {}): Redis | Cluster {
  const topology = redisTopology(config);
  if (!topology) throw new Error('No Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  if (topology.kind === 'cluster') return createCluster(topology.nodes, { ...topology.options, ...overrides });
  return new Redis({ ...topology.options, ...overrides });
}

/** The transport in one phrase, for the start-up log line. */
export function describeTransport(config: AppConfig): string {
  const topology = redisTopology(config);
  if (!topology) return 'BullMQ PostgreSQL backend (no REDIS_URL)';
  switch (topology.kind) {
    case 'single':
      return `Redis at ${topology.options.host}:${topology.options.port}`;
    case 'sentinel':
      return `Redis Sentinel "${topology.master}" via ${topology.sentinels.length} sentinels`;
    case 'cluster':
      return observedMasters === undefined
        ? `Redis Cluster via ${topology.nodes.length} seed nodes`
        : `Redis Cluster, ${observedMasters} masters`;
  }
}

/** Every queue this deployment knows: the old system's and any a route points at. */
export function allQueues(config: AppConfig): string[] {
  return [...new Set([...KNOWN_QUEUES, ...TaskRouter.fromConfig(config).queues()])];
}

/** Builds BullMQ's clients: a `Cluster` for options marked by {@link configureTransport}, else BullMQ's own default. */
function bullClientFactory(opts: object): ReturnType<typeof createIORedisClient> {
  const {
    [CLUSTER_NODES]: nodes,
    url,
    ...rest
  } = opts as RedisOptions & { [CLUSTER_NODES]?: RedisNode[]; url?: string };
  if (!nodes) return createIORedisClient(url ? new Redis(url, rest) : new Redis(rest));
  // BullMQ fills in a single node's host and port; a cluster's nodes come from the list.
  const { host: _host, port: _port, retryStrategy: _retry, ...redisOptions } = rest;
  return createIORedisClient(createCluster(nodes, redisOptions));
}

/** Reconnect attempts 250 ms apart at first, then every 2 s: a failover is over within seconds. */
function reconnectDelay(times: number): number {
  return Math.min(250 * times, 2000);
}

function createCluster(nodes: RedisNode[], redisOptions: RedisOptions) {
  const options: ClusterOptions = {
    redisOptions,
    // No ready check (`CLUSTER INFO` before 'ready'): when it fails, ioredis reconnects on its own
    // but never settles the `connect()` that ran it. BullMQ awaits exactly that `connect()` to
    // recover a worker's blocking connection, so a check that ran while the cluster was down
    // (cluster_state:fail between a master's death and its replica's promotion) parked the
    // worker's fetch loop for good, its queue never consumed again. Without it, commands that
    // reach a cluster still down get CLUSTERDOWN and are retried (retryDelayOnClusterDown).
    enableReadyCheck: false,
    // While a master's slots move to its replica, commands wait and retry rather than fail.
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    retryDelayOnTryAgain: 200,
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: 2000,
  };
  const cluster = new Cluster(nodes as ClusterNode[], options);
  cluster.on('ready', () => (observedMasters = cluster.nodes('master').length));
  return cluster;
}
