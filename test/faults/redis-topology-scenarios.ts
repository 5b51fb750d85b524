import { RedisTopologyUnderTest, startRedisCluster, startSentinelSet } from '../support/redis-topology';
import { FaultCluster } from './cluster';
import { FaultWindow } from './invariants';
import type { Scenario } from './scenarios';

/**
 * The failover scenarios: the service on a Sentinel set or a Redis Cluster, and the master under
 * the load SIGKILLed. Replication is asynchronous, so the promoted replica may lack the last
 * jobs, job states and locks; the task records must make up for it (nothing lost, nothing twice).
 * A submit during the failover is answered 202 (the record is the outbox), never 5xx. Queue
 * control, readiness, metrics and Bull Board must work on the new master.
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

/** The queues the mixed load uses (tasks.system.sleep, tasks.credits.consume, tasks.email.send_email). */
const LOAD_QUEUES = ['default', 'credits', 'email_tasks'];
/** What an operator reads on a deployment: each must answer 200 once the failover is over. */
const SURFACES = ['/queues', '/health/ready', '/metrics', '/admin/queues/api/queues'];

/**
 * Checks every process named the topology at start, then fails the master over with a backlog
 * on it: the load's queues are paused first (replicated), so what is submitted until the master
 * dies waits there, and whatever of it the replica lacks can only come back from the records.
 * The queues are resumed on the new master; the fault lasts until then.
 */
async function failOver(cluster: FaultCluster, problems: string[]): Promise<FaultWindow> {
  const topology = cluster.topology as RedisTopologyUnderTest;
  // The line is JSON in the logs: its quotes arrive escaped.
  const logged = JSON.stringify(topology.describedAs).slice(1, -1);
  for (const process of [cluster.api, ...cluster.workers])
    if (!process.output().includes(logged))
      problems.push(`process ${process.child.pid} did not log "${topology.describedAs}" at start`);
  const start = Date.now();
  await queueControl(cluster, 'pause', problems);
  await topology.killMasterAndAwaitFailover();
  await queueControl(cluster, 'resume', problems);
  const end = Date.now();
  await checkSurfaces(cluster, problems);
  return { start, end };
}

/** Pauses or resumes the load's queues through the API, retrying while the transport recovers. */
async function queueControl(cluster: FaultCluster, action: 'pause' | 'resume', problems: string[]): Promise<void> {
  for (const queue of LOAD_QUEUES) {
    const status = await untilOk(() => cluster.client.post(`/queues/${queue}/${action}`), 20_000);
    if (status >= 300) problems.push(`POST /queues/${queue}/${action} answered ${status} around the failover`);
  }
}

async function checkSurfaces(cluster: FaultCluster, problems: string[]): Promise<void> {
  for (const path of SURFACES) {
    const status = await untilOk(() => cluster.client.get(path), 20_000);
    if (status !== 200) problems.push(`GET ${path} answered ${status} after the failover`);
  }
}

/** The first 2xx status of `request`, or the last status once `timeoutMs` passed. */
async function untilOk(request: () => Promise<{ status: number }>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await request().then(
      (r) => r.status,
      () => 0,
    );
    if ((status >= 200 && status < 300) || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 500));
  }
}
