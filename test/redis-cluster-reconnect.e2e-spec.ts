import { Cluster } from 'ioredis';
import { AppConfig } from '../src/config/app-config';
import { createRedisClient } from '../src/tasks/queue-transport';
import { waitUntil } from './support/processes';
import { RedisTopologyUnderTest, redisCli, startRedisCluster } from './support/redis-topology';

/** Every node's port and the master ports by the slot ranges they serve, as `CLUSTER NODES` says. */
async function clusterNodes(seed: number) {
  const lines = (await redisCli(seed, 'cluster', 'nodes')).split('\n');
  return lines.map((line) => {
    const [, address, , , , , , , ...ranges] = line.split(' ');
    return { port: Number(address.split('@')[0].split(':')[1]), ranges };
  });
}

function serves(ranges: string[], slot: number): boolean {
  return ranges.some((range) => {
    const [low, high = low] = range.split('-').map(Number);
    return slot >= low && slot <= high;
  });
}

async function awaitState(ports: number[], state: 'ok' | 'fail'): Promise<void> {
  await waitUntil(
    async () =>
      (await Promise.all(ports.map((port) => redisCli(port, 'cluster', 'info')))).every((info) =>
        info.includes(`cluster_state:${state}`),
      ),
    30_000,
    100,
  );
}

/**
 * A cluster connection of the transport settles its `connect()` even when the cluster is down.
 * BullMQ recovers a worker's blocking connection by awaiting that `connect()`; with ioredis's
 * ready check, a connect that met cluster_state:fail (as between a master's death and its
 * replica's promotion) reconnected on its own but never settled, and the worker's fetch loop
 * waited for ever (docs/redis-topologies.md). Here the cluster is made to fail for certain by
 * unassigning one slot on every node.
 */
describe('Redis Cluster transport: reconnect while the cluster is down', () => {
  let topology: RedisTopologyUnderTest;
  let client: Cluster | undefined;

  beforeAll(async () => {
    topology = await startRedisCluster();
  });

  afterAll(async () => {
    client?.disconnect();
    await topology?.destroy();
  });

  it('settles connect() on a cluster whose state is fail, and serves again once it is ok', async () => {
    const config = AppConfig.fromEnv({ ...topology.env, REDIS_CLUSTER_NODES: topology.env.REDIS_CLUSTER_NODES! });
    client = createRedisClient(config) as Cluster;
    client.on('error', () => undefined);
    await client.set('{k}a', '1');

    const seed = Number(topology.env.REDIS_CLUSTER_NODES!.split(',')[0].split(':')[1]);
    const nodes = await clusterNodes(seed);
    const ports = nodes.map((node) => node.port);
    const slot = Number(await redisCli(seed, 'cluster', 'keyslot', 'unrelated'));
    const owner = nodes.find((node) => serves(node.ranges, slot))!.port;
    for (const port of ports) await redisCli(port, 'cluster', 'delslots', String(slot));
    await awaitState(ports, 'fail');

    const ended = new Promise((resolve) => client!.once('end', resolve));
    client.disconnect();
    await ended;
    const outcome = await Promise.race([
      client.connect().then(
        () => 'connected',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(() => resolve('never settled'), 10_000)),
    ]);
    expect(outcome).toBe('connected');

    await redisCli(owner, 'cluster', 'addslots', String(slot));
    await awaitState(ports, 'ok');
    expect(await client.get('{k}a')).toBe('1');
  });
});
