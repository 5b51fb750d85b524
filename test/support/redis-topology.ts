import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitUntil } from './processes';
import { ReplicationRelay } from './replication-relay';

const run = promisify(execFile);
// Sentinel and cluster detect a dead master after this long. Generous: on a busy 2-core CI box a
// live node can miss a second of pings, and a failover nobody caused would muddle the scenario.
const NODE_TIMEOUT_MS = 3000;
/** How long the Sentinel master's writes are kept from its replica before the master dies. */
const REPLICATION_LAG_MS = 1500;
const SERVER_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

/** `redis-cli -p port …`, its output trimmed ('' when the node does not answer). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return '';
  }
}

interface RedisNodeProcess {
  port: number;
  child: ChildProcess;
}

/** One redis-server (or sentinel) on a free loopback port, answering PING before this returns. */
async function startNode(dir: string, args: string[], port?: number): Promise<RedisNodeProcess> {
  const chosen = port ?? (await freePort());
  const child = spawn('redis-server', [...args, '--port', String(chosen), '--dir', dir], { stdio: 'ignore' });
  await waitUntil(async () => (await redisCli(chosen, 'ping')) === 'PONG', 15_000, 50);
  return { port: chosen, child };
}

async function kill(node: RedisNodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  node.child.kill('SIGKILL');
  await exited;
}

/** A Redis the fault suite can fail over: the service's environment for it, and a teardown. */
export interface RedisTopologyUnderTest {
  /** Variables that point the service at this Redis (and unset `REDIS_URL`). */
  env: Record<string, string | undefined>;
  /** The start-log phrase the service must print for it. */
  describedAs: string;
  /**
   * SIGKILLs the master under test (on a cluster, the one serving `slot` when given, else the
   * busiest); resolves once a replica has taken over its data.
   */
  killMasterAndAwaitFailover(slot?: number): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A Sentinel set on loopback: one master, one replica and three sentinels (`redis-server
 * --sentinel`, quorum 2) watching it as `mymaster`, nothing persisted. Everyone reaches the
 * master through a {@link ReplicationRelay}, so the failover can lose the last
 * {@link REPLICATION_LAG_MS} of writes, as an asynchronous replica behind a busy link does.
 */
export async function startSentinelSet(master = 'mymaster'): Promise<RedisTopologyUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const nodes: RedisNodeProcess[] = [];
  let relay: ReplicationRelay | undefined;
  try {
    const primary = await startNode(dir, SERVER_ARGS);
    nodes.push(primary);
    relay = await ReplicationRelay.start(primary.port);
    const replica = await startNode(dir, [...SERVER_ARGS, '--replicaof', '127.0.0.1', String(relay.port)]);
    nodes.push(replica);
    await waitUntil(
      async () => (await redisCli(replica.port, 'info', 'replication')).includes('master_link_status:up'),
      15_000,
    );
    const sentinels: RedisNodeProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      // A sentinel rewrites its configuration file as it learns the set: it must be its own.
      writeFileSync(
        config,
        [
          'bind 127.0.0.1',
          `sentinel monitor ${master} 127.0.0.1 ${relay.port} 2`,
          `sentinel down-after-milliseconds ${master} ${NODE_TIMEOUT_MS}`,
          `sentinel failover-timeout ${master} 10000`,
          `sentinel parallel-syncs ${master} 1`,
          '',
        ].join('\n'),
      );
      const sentinel = await startNode(dir, [config, '--sentinel'], port);
      nodes.push(sentinel);
      sentinels.push(sentinel);
    }
    // Each sentinel must know the replica (and the others) before a failover can elect it.
    await waitUntil(
      async () =>
        (await Promise.all(sentinels.map((s) => redisCli(s.port, 'sentinel', 'replicas', master)))).every((r) =>
          r.includes(String(replica.port)),
        ),
      30_000,
      200,
    );
    const masterPort = async () =>
      (await redisCli(sentinels[0].port, 'sentinel', 'get-master-addr-by-name', master)).split('\n')[1];
    return {
      env: {
        REDIS_URL: undefined,
        REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
        REDIS_SENTINEL_MASTER: master,
      },
      describedAs: `transport: Redis Sentinel "${master}" via 3 sentinels`,
      killMasterAndAwaitFailover: async () => {
        relay!.holdReplication();
        await new Promise((r) => setTimeout(r, REPLICATION_LAG_MS));
        await kill(primary);
        relay!.destroy();
        await waitUntil(
          async () =>
            (await masterPort()) === String(replica.port) &&
            (await redisCli(replica.port, 'role')).startsWith('master'),
          60_000,
          100,
        );
      },
      destroy: async () => {
        relay?.destroy();
        await Promise.all(nodes.map(kill));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    relay?.destroy();
    await Promise.all(nodes.map(kill));
    throw error;
  }
}

/**
 * A Redis Cluster on loopback: three masters and three replicas (`--cluster-enabled yes`, joined
 * by `redis-cli --cluster create … --cluster-replicas 1`), nothing persisted.
 */
export async function startRedisCluster(): Promise<RedisTopologyUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes: RedisNodeProcess[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      nodes.push(
        await startNode(
          dir,
          [
            ...SERVER_ARGS,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            // The bus port defaults to port + 10000, past 65535 for an ephemeral port above
            // 55535 (then the node never starts): give it a free port of its own.
            '--cluster-port',
            String(await freePort()),
            '--cluster-node-timeout',
            String(NODE_TIMEOUT_MS),
            // A replica takes over however long it was cut off from its master: no data is
            // persisted here, so there is nothing fresher to wait for.
            '--cluster-replica-validity-factor',
            '0',
          ],
          port,
        ),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    const created = await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 60_000 },
    ).catch((error) => ({ stdout: '', stderr: String(error.stderr ?? error) }));
    if (!created.stdout.includes('[OK] All 16384 slots covered'))
      throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await waitUntil(
      async () =>
        (await Promise.all(nodes.map((n) => redisCli(n.port, 'cluster', 'info')))).every((info) =>
          info.includes('cluster_state:ok'),
        ),
      30_000,
      200,
    );
    const survivor = () => nodes.find((n) => n.child.exitCode === null && n.child.signalCode === null)!;
    /** Live masters as a live node sees them: port → the slot ranges each serves. */
    const masters = async (): Promise<Map<number, string[]>> => {
      const serving = new Map<number, string[]>();
      for (const line of (await redisCli(survivor().port, 'cluster', 'nodes')).split('\n')) {
        const [, address, flags, , , , , , ...ranges] = line.split(' ');
        if (!flags?.includes('master') || flags.includes('fail') || ranges.length === 0) continue;
        serving.set(Number(address.split('@')[0].split(':')[1]), ranges);
      }
      return serving;
    };
    return {
      env: { REDIS_URL: undefined, REDIS_CLUSTER_NODES: addresses.slice(0, 3).join(',') },
      describedAs: 'transport: Redis Cluster, 3 masters',
      killMasterAndAwaitFailover: async (slot?: number) => {
        // The master of `slot`, or the busiest: the one whose queues the load is using most.
        const before = await masters();
        const sizes = await Promise.all(
          [...before.keys()].map(async (port) => [port, Number(await redisCli(port, 'dbsize'))]),
        );
        const serving = (ranges: string[]) =>
          ranges.some((range) => {
            const [low, high = low] = range.split('-').map(Number);
            return slot !== undefined && slot >= low && slot <= high;
          });
        const [victimPort] =
          slot === undefined
            ? sizes.sort((a, b) => b[1] - a[1])[0]
            : [[...before.entries()].find(([, ranges]) => serving(ranges))![0]];
        const victim = nodes.find((n) => n.port === victimPort)!;
        const slots = before.get(victimPort)!.join(' ');
        await kill(victim);
        // The victim's replica must serve its slots, and the cluster must say it is whole again.
        await waitUntil(
          async () =>
            [...(await masters()).entries()].some(
              ([port, ranges]) => port !== victimPort && ranges.join(' ') === slots,
            ) && (await redisCli(survivor().port, 'cluster', 'info')).includes('cluster_state:ok'),
          60_000,
          100,
        );
      },
      destroy: async () => {
        await Promise.all(nodes.map(kill));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(nodes.map(kill));
    throw error;
  }
}
