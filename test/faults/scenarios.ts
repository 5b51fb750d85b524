import { FaultCluster } from './cluster';
import { FaultWindow, judge, Verdict, VerdictRules } from './invariants';
import { LOAD_BALANCER_TITLE, runLoadBalancerScenario } from './load-balancer';
import { LoadGenerator } from './load';
import { REDIS_TOPOLOGY_SCENARIOS } from './redis-topology-scenarios';
import { RedisTopologyUnderTest } from '../support/redis-topology';

/** How long each fault lasts and how hard the load pushes; the test and `npm run chaos` differ only here. */
export interface FaultTimings {
  /** Load before the fault starts. */
  warmupMs: number;
  /** How long PostgreSQL or Redis stays down. */
  outageMs: number;
  /** The SIGKILL scenario: kill a worker every `killEveryMs` for `killForMs`. */
  killEveryMs: number;
  killForMs: number;
  /** Load after the fault ended, before the client stops. */
  cooldownMs: number;
  ratePerSecond: number;
  /** Worker processes of each scenario (2–3). */
  workers: number;
  /** How long every acknowledged task may take to become final once the load stopped. */
  settleTimeoutMs: number;
}

const envMs = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** Defaults for the fault suite in `npm test`, each overridable by a `FAULT_*` variable. */
export function faultTimings(defaults: FaultTimings): FaultTimings {
  return {
    warmupMs: envMs('FAULT_WARMUP_MS', defaults.warmupMs),
    outageMs: envMs('FAULT_OUTAGE_MS', defaults.outageMs),
    killEveryMs: envMs('FAULT_KILL_EVERY_MS', defaults.killEveryMs),
    killForMs: envMs('FAULT_KILL_FOR_MS', defaults.killForMs),
    cooldownMs: envMs('FAULT_COOLDOWN_MS', defaults.cooldownMs),
    ratePerSecond: envMs('FAULT_RATE', defaults.ratePerSecond),
    workers: envMs('FAULT_WORKERS', defaults.workers),
    settleTimeoutMs: envMs('FAULT_SETTLE_MS', defaults.settleTimeoutMs),
  };
}

export const TEST_TIMINGS: FaultTimings = {
  warmupMs: 3_000,
  outageMs: 8_000,
  killEveryMs: 3_000,
  killForMs: 15_000,
  cooldownMs: 3_000,
  ratePerSecond: 12,
  workers: 2,
  settleTimeoutMs: 90_000,
};

export const CHAOS_TIMINGS: FaultTimings = {
  warmupMs: 5_000,
  outageMs: 30_000,
  killEveryMs: 5_000,
  killForMs: 60_000,
  cooldownMs: 5_000,
  ratePerSecond: 20,
  workers: 3,
  settleTimeoutMs: 180_000,
};

export interface Scenario {
  title: string;
  /** A Sentinel set or cluster to run on instead of the one redis-server. */
  topology?: () => Promise<RedisTopologyUnderTest>;
  rules: Omit<VerdictRules, 'settleTimeoutMs'>;
  /** At least one submit during the fault must get a 202 (the transport outage). */
  acceptsDuringFault?: boolean;
  /** Injects the fault; returns when it started and ended, and what went wrong on the way. */
  inject(cluster: FaultCluster, timings: FaultTimings, problems: string[]): Promise<FaultWindow>;
}

/** A scenario on processes of its own rather than one FaultCluster (e.g. behind a load balancer). */
interface OwnClusterScenario {
  title: string;
  run(timings: FaultTimings, log: (line: string) => void): Promise<Verdict & { logTail?: string }>;
}

export const SCENARIOS = {
  postgres: {
    title: 'PostgreSQL stopped mid-load, then started',
    rules: { allow503: true, allowUnanswered: false },
    inject: async (cluster, t) => {
      const start = Date.now();
      await cluster.postgres.stop();
      await sleep(t.outageMs);
      await cluster.postgres.start();
      return { start, end: Date.now() };
    },
  },
  redis: {
    title: 'Redis stopped mid-load, then started empty',
    rules: { allow503: false, allowUnanswered: false },
    acceptsDuringFault: true,
    inject: async (cluster, t) => {
      const start = Date.now();
      await cluster.redis.stop();
      await sleep(t.outageMs);
      await cluster.redis.start();
      return { start, end: Date.now() };
    },
  },
  rollout: {
    title: 'Each worker SIGTERMed and restarted in turn, twice, then the API',
    // The one API process is gone while it restarts: those requests get no answer.
    rules: { allow503: false, allowUnanswered: true },
    inject: async (cluster, _t, problems) => {
      const start = Date.now();
      for (let round = 1; round <= 2; round++) {
        for (let i = 0; i < cluster.workers.length; i++) {
          const code = await cluster.replaceWorker(i, 'SIGTERM');
          if (code !== 0) problems.push(`worker ${i} exited ${code} on SIGTERM (round ${round})`);
        }
      }
      const code = await cluster.replaceApi();
      if (code !== 0) problems.push(`the API exited ${code} on SIGTERM`);
      return { start, end: Date.now() };
    },
  },
  sigkill: {
    title: 'One worker SIGKILLed every few seconds',
    rules: { allow503: false, allowUnanswered: false },
    inject: async (cluster, t) => {
      const start = Date.now();
      for (let i = 0; Date.now() - start < t.killForMs; i++) {
        const began = Date.now();
        await cluster.replaceWorker(i % cluster.workers.length, 'SIGKILL');
        await sleep(Math.max(0, t.killEveryMs - (Date.now() - began)));
      }
      return { start, end: Date.now() };
    },
  },
  ...REDIS_TOPOLOGY_SCENARIOS,
  loadBalancer: {
    title: LOAD_BALANCER_TITLE,
    run: runLoadBalancerScenario,
  },
} satisfies Record<string, Scenario | OwnClusterScenario>;

export type ScenarioName = keyof typeof SCENARIOS;

export interface ScenarioReport extends Verdict {
  scenario: ScenarioName;
  title: string;
  /** The processes' last output when something failed, to read next to the problems. */
  logTail?: string;
}

/**
 * Runs one scenario from scratch: a fresh cluster, accounts for the ledger, the mixed load, the
 * fault, a cool-down, then waits for every acknowledged task and judges the invariants.
 */
export async function runScenario(
  name: ScenarioName,
  timings: FaultTimings,
  log: (line: string) => void = () => undefined,
): Promise<ScenarioReport> {
  const chosen: Scenario | OwnClusterScenario = SCENARIOS[name];
  if ('run' in chosen) return { scenario: name, title: chosen.title, ...(await chosen.run(timings, log)) };
  const scenario = chosen;
  log(`${name}: starting ${timings.workers} workers and one API`);
  const cluster = await FaultCluster.start(timings.workers, scenario.topology);
  try {
    // One account small enough to run dry (its consumes then end FAILURE by the handler's choice).
    const accounts = await Promise.all([20, 1_000_000, 1_000_000].map((amount) => openAccount(cluster, amount)));
    const load = new LoadGenerator(cluster.client, { ratePerSecond: timings.ratePerSecond, concurrency: 4, accounts });
    load.start();
    await sleep(timings.warmupMs);
    log(`${name}: ${scenario.title}`);
    const problems: string[] = [];
    const window = await scenario.inject(cluster, timings, problems).catch(async (error) => {
      await load.stop();
      throw error;
    });
    log(`${name}: fault over after ${window.end - window.start} ms; cooling down`);
    await sleep(timings.cooldownMs);
    await load.stop();
    const verdict = await judge(cluster.db, cluster.smtp, load.records, window, {
      ...scenario.rules,
      settleTimeoutMs: timings.settleTimeoutMs,
      cutByKill: (id) => cluster.cutByKill(id),
    });
    verdict.problems.unshift(...problems);
    const acceptedDuring = load.accepted().filter((r) => r.at >= window.start && r.at <= window.end).length;
    if (scenario.acceptsDuringFault && acceptedDuring === 0)
      verdict.problems.push('no submit got a 202 during the fault');
    return {
      scenario: name,
      title: scenario.title,
      ...verdict,
      logTail:
        verdict.problems.length > 0 ? `${cluster.tail()}\n${aboutProblemTasks(cluster, verdict.problems)}` : undefined,
    };
  } finally {
    await cluster.destroy();
  }
}

/** The log lines of the first few tasks named in the problems: what happened to each, in order. */
function aboutProblemTasks(cluster: FaultCluster, problems: string[]): string {
  const ids = [
    ...new Set(problems.join(' ').match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? []),
  ];
  return ids
    .slice(0, 3)
    .map((id) => `--- task ${id}\n${cluster.linesMentioning(id).join('\n')}`)
    .join('\n');
}

async function openAccount(cluster: FaultCluster, amount: number): Promise<string> {
  const response = await cluster.client.post('/credits/accounts', { openingGrant: { amount } });
  if (response.status !== 201)
    throw new Error(`Opening an account gave ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.id;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
