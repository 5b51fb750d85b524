import { ApiClient } from '../support/api-client';
import { BalancedCluster, Restart } from './balanced-cluster';
import { BalancedLoad } from './balanced-load';
import { FAULT_ADMIN_KEY } from './fault-stores';
import { judge, Verdict } from './invariants';
import type { FaultTimings } from './scenarios';

const API_PROCESSES = 2;
const WORKER_PROCESSES = 3;

export const LOAD_BALANCER_TITLE =
  '2 API and 3 worker processes behind nginx, each SIGTERMed and restarted in turn, twice';

/**
 * The load-balancer scenario: the client submits (each POST with an Idempotency-Key) and
 * long-polls through nginx while every process is restarted in turn, twice. Beyond the fault
 * suite's invariants, not one request may fail: nginx must send a request a stopping process
 * refused or reset to the other API process, and the processes must drain what they accepted.
 */
export async function runLoadBalancerScenario(
  timings: FaultTimings,
  log: (line: string) => void,
): Promise<Verdict & { logTail?: string }> {
  log(`loadBalancer: starting ${API_PROCESSES} API and ${WORKER_PROCESSES} worker processes behind nginx`);
  const cluster = await BalancedCluster.start(API_PROCESSES, WORKER_PROCESSES);
  try {
    const client = cluster.client();
    const accounts = await Promise.all([20, 1_000_000, 1_000_000].map((amount) => openAccount(client, amount)));
    const load = new BalancedLoad({
      baseUrl: cluster.nginx.url,
      apiKey: FAULT_ADMIN_KEY,
      ratePerSecond: timings.ratePerSecond,
      submitters: 4,
      pollers: 2,
      accounts,
    });
    load.start();
    await sleep(timings.warmupMs);
    log(`loadBalancer: ${LOAD_BALANCER_TITLE}`);
    const problems: string[] = [];
    const restarts: Restart[] = [];
    const start = Date.now();
    try {
      // Never two API processes out of nginx's rotation at once: that is a 502 for every client.
      let rotation = Promise.resolve();
      for (let round = 1; round <= 2; round++) {
        for (const member of cluster.restartOrder()) {
          if (member.role === 'api') await rotation;
          const { restart, backInRotation } = await cluster.restart(member, round);
          restarts.push(restart);
          log(`loadBalancer: ${describe(restart)}`);
          if (restart.exitCode !== 0)
            problems.push(`${member.label} exited ${restart.exitCode} on SIGTERM (round ${round})`);
          if (backInRotation)
            rotation = backInRotation.then(
              (ms) => {
                restart.backInRotationMs = ms;
                log(`loadBalancer: ${member.label} (round ${round}) back in nginx's rotation ${ms} ms after ready`);
              },
              (error) => void problems.push(`${member.label} never came back into nginx's rotation: ${error.message}`),
            );
        }
      }
      await rotation;
    } catch (error) {
      await load.stop();
      throw error;
    }
    const window = { start, end: Date.now() };
    log(`loadBalancer: restarts over after ${window.end - window.start} ms; cooling down`);
    await sleep(timings.cooldownMs);
    await load.stop();

    const verdict = await judge(cluster.db, cluster.smtp, load.submits, window, {
      allow503: false,
      allowUnanswered: false,
      settleTimeoutMs: timings.settleTimeoutMs,
    });
    const failedPolls = load.polls.filter((r) => r.status === 0 || r.status >= 400);
    if (failedPolls.length > 0)
      problems.push(
        `${failedPolls.length} polls failed; first: ${failedPolls[0].status || 'no answer'} ${failedPolls[0].error}`,
      );
    verdict.problems.unshift(...problems);
    log(`loadBalancer: ${summariseRestarts(restarts)}`);
    const retried = cluster.nginx.requests().filter((r) => r.attempts.length > 1);
    log(
      `loadBalancer: ${load.submits.length + load.polls.length} requests (${load.submits.length} submits, ` +
        `${load.polls.length} polls), ${load.failures().length} failed; nginx sent ${retried.length} on to the ` +
        `other process (${retried.filter((r) => r.request.startsWith('POST')).length} POSTs), ` +
        `${load.replayed} submits answered by their Idempotency-Key; nginx's reasons: ` +
        JSON.stringify(cluster.nginx.upstreamErrors()),
    );
    return {
      ...verdict,
      logTail: verdict.problems.length > 0 ? cluster.tail() : undefined,
    };
  } finally {
    await cluster.destroy();
  }
}

function describe(r: Restart): string {
  return `${r.label} (round ${r.round}): exited ${r.exitCode} ${r.drainMs} ms after SIGTERM, ready ${r.bootMs} ms after restart`;
}

function summariseRestarts(restarts: Restart[]): string {
  const range = (values: number[]) => (values.length === 0 ? '-' : `${Math.min(...values)}–${Math.max(...values)} ms`);
  const of = (role: string) => restarts.filter((r) => r.label.startsWith(role));
  return (
    `${restarts.length} restarts; SIGTERM to exit: API ${range(of('api').map((r) => r.drainMs))}, ` +
    `workers ${range(of('worker').map((r) => r.drainMs))}; start to ready: API ${range(of('api').map((r) => r.bootMs))}, ` +
    `workers ${range(of('worker').map((r) => r.bootMs))}; ready to back in nginx's rotation: ` +
    range(of('api').flatMap((r) => (r.backInRotationMs === undefined ? [] : [r.backInRotationMs])))
  );
}

async function openAccount(client: ApiClient, amount: number): Promise<string> {
  const response = await client.post('/credits/accounts', { openingGrant: { amount } });
  if (response.status !== 201)
    throw new Error(`Opening an account gave ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.id;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
