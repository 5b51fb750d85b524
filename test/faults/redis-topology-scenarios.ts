import { RedisTopologyUnderTest, startRedisCluster, startSentinelSet } from '../support/redis-topology';
import { FaultCluster } from './cluster';
import { FaultWindow } from './invariants';
import type { Scenario } from './scenarios';

/**
 * The failover scenarios: the service on a Sentinel set or a Redis Cluster, and the master under
 * the load SIGKILLed. Replication is asynchronous, so the promoted replica may lack the last
 * jobs, job states and locks; the task records must make up for it (nothing lost, nothing twice).
 * A submit during the failover is answered 202 (the record is the outbox), never 5xx.
 */
export const REDIS_TOPOLOGY_SCENARIOS = {
  sentinel: {
    title: 'Redis Sentinel: the master SIGKILLed mid-load, its replica promoted',
    rules: { allow503: false, allowUnanswered: false },
    acceptsDuringFault: true,
    topology: () => startSentinelSet(),
    inject: (cluster, _t, problems) => failOver(cluster, problems),
  },
  redisCluster: {
    title: 'Redis Cluster (3 masters, 3 replicas): the busiest master SIGKILLed mid-load',
    rules: { allow503: false, allowUnanswered: false },
    acceptsDuringFault: true,
    topology: () => startRedisCluster(),
    inject: (cluster, _t, problems) => failOver(cluster, problems),
  },
} satisfies Record<string, Scenario>;

/** Checks every process named the topology at start, then kills the master; the fault lasts until a replica serves its data. */
async function failOver(cluster: FaultCluster, problems: string[]): Promise<FaultWindow> {
  const topology = cluster.topology as RedisTopologyUnderTest;
  // The line is JSON in the logs: its quotes arrive escaped.
  const logged = JSON.stringify(topology.describedAs).slice(1, -1);
  for (const process of [cluster.api, ...cluster.workers])
    if (!process.output().includes(logged))
      problems.push(`process ${process.child.pid} did not log "${topology.describedAs}" at start`);
  const start = Date.now();
  await topology.killMasterAndAwaitFailover();
  return { start, end: Date.now() };
}
