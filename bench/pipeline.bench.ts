/**
 * The whole pipeline against raw BullMQ on the same Redis:
 *   drain   — N no-op jobs already queued, time until all are done (records included for ours);
 *   e2e     — submit N (ours: HTTP POST /tasks/batch, raw: addBulk) with workers running;
 *   latency — one task at a time, submit → SUCCESS as the caller sees it (ours: HTTP POST then
 *             GET ?wait= long-poll; raw: add then waitUntilFinished on QueueEvents);
 *   idle RSS of a worker process.
 * Usage: npm run bench [-- N]   (default N = 20000; BENCH_CONCURRENCY, default 256)
 * `npm run bench:peers` runs the same measurements next to Celery and the embedded default.
 */
import { createRedisBackend } from 'bullmq';
import { execFileSync } from 'node:child_process';
import { redisOptionsFromUrl } from '../src/tasks/queues/queue-transport';
import { idleWorkerRssMb, ROOT, runPipeline } from './pipeline-run';
import { runRawBullmq } from './raw-bullmq';
import { createBenchDatabase, fmt, percentile, REDIS_URL } from './support';

const N = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const LATENCY_SAMPLES = 300;

async function main() {
  const database = await createBenchDatabase();
  try {
    console.log(`N = ${fmt(N)} no-op tasks, worker concurrency ${CONCURRENCY}, Redis ${REDIS_URL}\n`);
    if (!process.env.BENCH_NO_BUILD) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore' });
    const common = { n: N, concurrency: CONCURRENCY, latencySamples: LATENCY_SAMPLES };
    const raw = await runRawBullmq({
      ...common,
      backend: createRedisBackend as never,
      connection: redisOptionsFromUrl(REDIS_URL),
      completion: 'queue-events',
    });
    const ours = await runPipeline({ ...common, databaseUrl: database.url, redisUrl: REDIS_URL });
    const rss = await idleWorkerRssMb({ databaseUrl: database.url, redisUrl: REDIS_URL });
    const row = (label: string, a: number, b: number, unit: string, digits = 0) =>
      console.log(
        `${label.padEnd(34)} ${fmt(a, digits).padStart(9)} ${fmt(b, digits).padStart(9)}  ${unit.padEnd(8)} ${fmt(b / a, 2).padStart(6)}x`,
      );
    console.log(`${''.padEnd(34)} ${'raw'.padStart(9)} ${'pipeline'.padStart(9)}  ${''.padEnd(8)}  ratio`);
    row('drain (queued → done)', raw.drain, ours.drain, 'tasks/s');
    row('submit + run (workers running)', raw.e2e, ours.e2e, 'tasks/s');
    row('latency p50 submit → SUCCESS', percentile(raw.latencies, 50), percentile(ours.latencies, 50), 'ms', 2);
    row('latency p99 submit → SUCCESS', percentile(raw.latencies, 99), percentile(ours.latencies, 99), 'ms', 2);
    console.log(`${'idle worker RSS (all queues)'.padEnd(34)} ${''.padStart(9)} ${fmt(rss, 1).padStart(9)}  MB`);
  } finally {
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
