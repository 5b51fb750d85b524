import { RedisConnection } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { configureTransport, describeTransport, queuePrefix, redisTopology } from './queue-transport';

describe('queue transport', () => {
  afterEach(() => {
    RedisConnection.clientFactory = undefined;
  });

  it('goes through the sentinels to the named master, with both passwords', () => {
    const sut = AppConfig.fromEnv({
      REDIS_SENTINELS: 's1:26379,s2:26379,s3:26379',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    });
    expect(redisTopology(sut)).toMatchObject({
      kind: 'sentinel',
      options: {
        name: 'mymaster',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
          { host: 's3', port: 26379 },
        ],
        password: 'data-secret',
        sentinelPassword: 'sentinel-secret',
        enableTLSForSentinelMode: false,
        maxRetriesPerRequest: null,
      },
    });
    // Reconnects keep coming while the sentinels elect a new master, not BullMQ's 20 s apart.
    const retry = redisTopology(sut)!.options.retryStrategy!;
    expect([1, 4, 100].map((times) => retry(times))).toEqual([250, 1000, 2000]);
    expect(describeTransport(sut)).toBe('Redis Sentinel "mymaster" via 3 sentinels');
    expect(configureTransport(sut)).toMatchObject({ name: 'mymaster' });
  });

  it('uses TLS to the sentinels and the master for rediss:// entries', () => {
    const sut = AppConfig.fromEnv({ REDIS_SENTINELS: 'rediss://s1:26379', REDIS_SENTINEL_MASTER: 'm' });
    expect(redisTopology(sut)?.options).toMatchObject({ tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true });
  });

  it('builds cluster clients for the queues and gives each queue a hash tag of its own', () => {
    const sut = AppConfig.fromEnv({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', QUEUE_PREFIX: 'bull' });
    const connection = configureTransport(sut);
    expect(connection).toMatchObject({
      taskServiceClusterNodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
    });
    expect(RedisConnection.clientFactory).toBeDefined();
    expect(queuePrefix(sut, 'file_tasks')).toBe('{bull:file_tasks}');
    expect(queuePrefix(sut, 'credits')).toBe('{bull:credits}');
    // Until a cluster connection has reported its masters, the log names the seed nodes.
    expect(describeTransport(sut)).toBe('Redis Cluster via 2 seed nodes');
  });

  it('keeps the plain prefix and the single node everywhere else', () => {
    const sut = AppConfig.fromEnv({ REDIS_URL: 'redis://:pw@cache:6380/2', QUEUE_PREFIX: 'bull' });
    expect(queuePrefix(sut, 'file_tasks')).toBe('bull');
    expect(configureTransport(sut)).toMatchObject({ host: 'cache', port: 6380, db: 2, password: 'pw' });
    expect(RedisConnection.clientFactory).toBeUndefined();
    expect(describeTransport(sut)).toBe('Redis at cache:6380');
    expect(describeTransport(AppConfig.fromEnv({}))).toBe('BullMQ PostgreSQL backend (no REDIS_URL)');
  });
});
