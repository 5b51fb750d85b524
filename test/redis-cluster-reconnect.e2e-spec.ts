import { Cluster } from 'ioredis';
import { AppConfig } from '../src/config/app-config';
import { createRedisClient } from '../src/tasks/queues/queue-transport';
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

async function inState(ports: number[], state: 'ok' | 'fail'): Promise<boolean> {
  const infos = await Promise.all(ports.map((port) => redisCli(port, 'cluster', 'info')));
  return infos.every((info) => info.includes(`cluster_state:${state}`));
}

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
    // The owner first, and again until every node agrees: a heartbeat the owner sent before it
    // let go of the slot can hand it back to a node that had already unassigned it.
    const unassign = async () => {
      for (const port of [owner, ...ports.filter((p) => p !== owner)])
        await redisCli(port, 'cluster', 'delslots', String(slot));
      return inState(ports, 'fail');
    };
    await waitUntil(unassign, 30_000, 200);

    const ended = new Promise((resolve) => client!.once('end', resolve));
    client.disconnect();
    await ended;
    const outcome = await Promise.race([
      client.connect().then(
        () => 'connected',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(() => resolve('never settled'), 10_000).unref()),
    ]);
    expect(outcome).toBe('connected');

    await redisCli(owner, 'cluster', 'addslots', String(slot));
    await waitUntil(() => inState(ports, 'ok'), 30_000, 100);
    expect(await client.get('{k}a')).toBe('1');
  });
});
