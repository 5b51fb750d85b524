/**
 * Every peer, back to back on this machine, in one table with ratios:
 *   raw      — raw BullMQ on the local Redis (no records);
 *   ours     — the pipeline on the same Redis (HTTP submit, durable records, SUCCESS committed);
 *   celery   — the old system (Celery 5, its configuration) from ../shared/peers/celery/run.sh;
 *   raw PG   — raw BullMQ on its PostgreSQL backend, in an embedded PostgreSQL;
 *   embedded — the pipeline's embedded default (embedded PostgreSQL + BullMQ's PostgreSQL backend);
 *   http     — the HTTP front: the api process against a bare Express and a bare Fastify route (hey).
 * Ratios are ours / peer (for latency and RSS lower is better). A peer that cannot run is
 * skipped with its reason; the run never fails because of a peer.
 *
 * Usage: npm run bench:peers
 *   N=20000 (no-op tasks, Redis peers)  N_EMBEDDED=3000  N_IO=10000 (50 ms sleeps)  N_IO_EMBEDDED=2000  IO_CONCURRENCY=500
 *   LATENCY_N=300  BENCH_CONCURRENCY=256  PEERS=raw,ours,celery,embedded,http
 *   HTTP_SECONDS=20  HTTP_CONNECTIONS=200  BENCH_API_NODE_FLAGS (the api's node flags; default: deploy/k8s/api.yaml's)
 *   BENCH_JSON=<path> (the summary as JSON)
 *   CELERY_PEER_DIR, CELERY_VARIANTS="prefork-2 threads-50 gevent-200", CELERY_N=10000, CELERY_RT_N=500
 * Defaults take about 6–9 minutes on 2 cores.
 */
import { createPostgresBackend, createRedisBackend } from 'bullmq';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { KNOWN_QUEUES } from '../src/tasks/queue-names';
import { redisOptionsFromUrl } from '../src/tasks/queues/queue-transport';
import { CeleryOutcome, runCelery } from './celery-peer';
import { idleWorkerRssMb, ROOT, runPipeline } from './pipeline-run';
import { writeFileSync } from 'node:fs';
import { HttpFront, printHttpFront, runHttpFront } from './http-front';
import { celeryFigure, printPeerTable, PeerFigures, PeerTable } from './peer-table';
import { rawIdleWorkerRssMb, RunResult, runRawBullmq } from './raw-bullmq';
import { createBenchDatabase, fmt, machineLoad, percentile, REDIS_URL } from './support';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const N = env('N', 20_000);
const N_EMBEDDED = env('N_EMBEDDED', 3_000);
const N_IO_EMBEDDED = env('N_IO_EMBEDDED', 2_000);
const IO = { n: env('N_IO', 10_000), ms: 50, concurrency: env('IO_CONCURRENCY', 500) };
const LATENCY_N = env('LATENCY_N', 300);
const CONCURRENCY = env('BENCH_CONCURRENCY', 256);
const PEERS = new Set((process.env.PEERS ?? 'raw,ours,celery,embedded,http').split(','));
const HTTP_SECONDS = env('HTTP_SECONDS', 20);
const HTTP_CONNECTIONS = env('HTTP_CONNECTIONS', 200);

/** Runs one peer; a failure becomes a skip line, never the end of the run. */
async function attempt<T>(label: string, run: () => Promise<T>, skipped: string[]): Promise<T | undefined> {
  const started = Date.now();
  try {
    const result = await run();
    console.log(`  ${label}: ${((Date.now() - started) / 1000).toFixed(0)} s (${machineLoad()})`);
    return result;
  } catch (error) {
    skipped.push(`${label}: failed — ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

const figures = (run: RunResult | undefined, rss?: number): PeerFigures | undefined =>
  run && { drain: run.drain, e2e: run.e2e, latencies: run.latencies, io: run.io, rssMb: rss };

async function redisPeers(skipped: string[]) {
  const out: { raw?: PeerFigures; ours?: PeerFigures } = {};
  const common = { n: N, concurrency: CONCURRENCY, latencySamples: LATENCY_N, io: IO.n > 0 ? IO : undefined };
  const redis = redisOptionsFromUrl(REDIS_URL) as { host: string; port: number };
  if (PEERS.has('raw')) {
    const run = await attempt(
      'raw BullMQ (Redis)',
      () =>
        runRawBullmq({
          ...common,
          backend: createRedisBackend as never,
          connection: redis,
          completion: 'queue-events',
        }),
      skipped,
    );
    out.raw = figures(run, run && (await rawIdleWorkerRssMb(redis, KNOWN_QUEUES)));
  }
  if (PEERS.has('ours')) {
    const database = await createBenchDatabase();
    try {
      const target = { databaseUrl: database.url, redisUrl: REDIS_URL };
      const run = await attempt('pipeline (Redis)', () => runPipeline({ ...common, ...target }), skipped);
      out.ours = figures(run, run && (await idleWorkerRssMb(target)));
    } finally {
      await database.drop();
    }
  }
  return out;
}

async function embeddedPeers(skipped: string[]) {
  const out: { rawPg?: PeerFigures; embedded?: PeerFigures } = {};
  const dir = await mkdtemp(join(tmpdir(), 'bench-embedded-'));
  const port = 54_400 + Math.floor(Math.random() * 500);
  const server = await attempt('embedded PostgreSQL start', () => startEmbeddedPostgres(dir, port), skipped);
  if (!server) return out;
  try {
    const common = {
      n: N_EMBEDDED,
      concurrency: CONCURRENCY,
      latencySamples: LATENCY_N,
      io: N_IO_EMBEDDED > 0 ? { ...IO, n: N_IO_EMBEDDED } : undefined,
    };
    const connection = { connectionString: server.url, schema: 'bullmq_raw', migrate: true, max: 4 };
    const raw = await attempt(
      'raw BullMQ (PostgreSQL backend)',
      () =>
        runRawBullmq({ ...common, backend: createPostgresBackend as never, connection, completion: 'worker-event' }),
      skipped,
    );
    out.rawPg = figures(raw);
    const ours = await attempt('embedded default', () => runPipeline({ ...common, databaseUrl: server.url }), skipped);
    out.embedded = figures(ours, ours && (await idleWorkerRssMb({ databaseUrl: server.url })));
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

async function main() {
  const skipped: string[] = [];
  console.log(
    `N = ${fmt(N)} no-op tasks (embedded: ${fmt(N_EMBEDDED)}), ${fmt(IO.n)} × ${IO.ms} ms sleeps at concurrency ${IO.concurrency}, ` +
      `worker concurrency ${CONCURRENCY}, ${LATENCY_N} round trips; Redis ${REDIS_URL}; start: ${machineLoad()}`,
  );
  if (!process.env.BENCH_NO_BUILD) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const { raw, ours } = await redisPeers(skipped);
  let celery: CeleryOutcome | undefined;
  if (PEERS.has('celery')) {
    celery = await attempt('celery run.sh', () => runCelery(ROOT), skipped);
    if (celery && 'skipped' in celery) skipped.push(`celery: skipped — ${celery.skipped}`);
  }
  const { rawPg, embedded } = PEERS.has('embedded') ? await embeddedPeers(skipped) : {};
  const http = PEERS.has('http')
    ? await attempt('HTTP front', () => runHttpFront(HTTP_SECONDS, HTTP_CONNECTIONS), skipped)
    : undefined;
  console.log(`end: ${machineLoad()}\n`);
  const table = { raw, ours, celery: celery && 'variants' in celery ? celery.variants : undefined, rawPg, embedded };
  printPeerTable(table);
  if (http) {
    console.log('');
    printHttpFront(http);
  }
  if (process.env.BENCH_JSON)
    writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(summary(table, http), null, 2)}\n`);
  if (celery && 'lines' in celery) console.log(`\nCelery run.sh summary:\n${celery.lines.join('\n')}`);
  for (const line of skipped) console.log(`SKIPPED ${line}`);
}

/** The figures the issues' targets name, as numbers (a figure a skipped peer could not give is absent). */
function summary(table: PeerTable, http: HttpFront | undefined): Record<string, number> {
  const div = (a?: number, b?: number) => (a === undefined || !b ? undefined : a / b);
  const p = (f: PeerFigures | undefined, q: number) => (f?.latencies?.length ? percentile(f.latencies, q) : undefined);
  const celery = (preferred: string, pick: (v: { e2e?: number; p50?: number }) => number | undefined) =>
    celeryFigure(table.celery, preferred, pick).value;
  const { raw, ours, rawPg, embedded } = table;
  const embeddedRows = [
    div(embedded?.drain, rawPg?.drain),
    div(embedded?.e2e, rawPg?.e2e),
    div(embedded?.io, rawPg?.io),
  ];
  const present = embeddedRows.filter((r): r is number => r !== undefined);
  const out: Record<string, number | undefined> = {
    httpSubmitPerSec: http?.ours.submit,
    httpSubmitVsFastify: div(http?.ours.submit, http?.fastify.submit),
    httpSubmitVsExpress: div(http?.ours.submit, http?.express.submit),
    httpReadPerSec: http?.ours.read,
    httpReadVsFastify: div(http?.ours.read, http?.fastify.read),
    httpLivePerSec: http?.ours.live,
    httpLiveVsFastify: div(http?.ours.live, http?.fastify.live),
    fastifySubmitPerSec: http?.fastify.submit,
    expressSubmitPerSec: http?.express.submit,
    apiRssUnderLoadMb: http?.ours.rssMb,
    apiHeapTotalUnderLoadMb: http?.ours.heapTotalMb,
    drainVsRaw: div(ours?.drain, raw?.drain),
    e2eVsCelery: div(
      ours?.e2e,
      celery('prefork-2', (v) => v.e2e),
    ),
    p50VsRaw: div(p(ours, 50), p(raw, 50)),
    p50VsCelery: div(
      p(ours, 50),
      celery('prefork-2', (v) => v.p50),
    ),
    p99VsRaw: div(p(ours, 99), p(raw, 99)),
    ioVsRaw: div(ours?.io, raw?.io),
    idleWorkerRssMb: ours?.rssMb,
    embeddedMinVsRawPg: present.length ? Math.min(...present) : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, number] => e[1] !== undefined));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(0);
  },
);
