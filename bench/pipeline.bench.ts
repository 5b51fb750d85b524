/**
 * The whole pipeline against raw BullMQ on the same Redis:
 *   drain   — N no-op jobs already queued, time until all are done (records included for ours);
 *   e2e     — submit N (ours: HTTP POST /tasks/batch, raw: addBulk) with workers running;
 *   latency — one task at a time, submit → SUCCESS as the caller sees it (ours: HTTP POST then
 *             GET ?wait= long-poll; raw: add then waitUntilFinished on QueueEvents);
 *   idle RSS of a worker process.
 * Usage: npm run bench [-- N]   (default N = 20000; BENCH_CONCURRENCY, default 256)
 */
import 'reflect-metadata';
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { TaskQueues } from '../src/tasks/task-queues.service';
import { redisOptionsFromUrl } from '../src/tasks/queue-transport';
import { createBenchDatabase, fmt, percentile, REDIS_URL, uniquePrefix } from './support';

const N = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const LATENCY_SAMPLES = 300;
const ADMIN_KEY = 'bench-admin-key-0123456789';
const connection = redisOptionsFromUrl(REDIS_URL) as never;

async function rawBullmq() {
  const prefix = uniquePrefix('raw');
  const queue = new Queue('default', { connection, prefix });
  const fill = async (count: number) => {
    for (let i = 0; i < count; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ name: 'noop', data: { i: i + j } })),
      );
    }
  };
  let done = 0;
  const worker = new Worker('default', async (job: Job) => job.data, {
    connection,
    prefix,
    concurrency: CONCURRENCY,
    autorun: false,
    removeOnComplete: { age: 3600, count: 10_000 },
  });
  worker.on('completed', () => done++);
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => done >= count && (clearInterval(check), resolve()), 2);
    });

  await fill(N);
  let start = performance.now();
  void worker.run();
  await until(N);
  const drain = N / ((performance.now() - start) / 1000);

  done = 0;
  start = performance.now();
  await fill(N);
  await until(N);
  const e2e = N / ((performance.now() - start) / 1000);

  // A producer learns of completion through QueueEvents, as a caller elsewhere would.
  const events = new QueueEvents('default', { connection, prefix });
  await events.waitUntilReady();
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t0 = performance.now();
    const job = await queue.add('noop', { i });
    await job.waitUntilFinished(events);
    latencies.push(performance.now() - t0);
  }
  await events.close();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { drain, e2e, latencies: latencies.sort((a, b) => a - b) };
}

function serviceEnv(databaseUrl: string, prefix: string, role: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ROLE: role,
    PORT: '0',
    LOG_LEVEL: 'error',
    ADMIN_API_KEY: ADMIN_KEY,
    WORKER_CONCURRENCY: String(CONCURRENCY),
    WORKER_QUEUES: 'default',
  };
}

async function pipeline(databaseUrl: string) {
  const prefix = uniquePrefix('pipe');
  const api = await startService(AppConfig.fromEnv(serviceEnv(databaseUrl, prefix, 'api')));
  const base = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
  const db = api.app.get(DataSource);
  const submit = async (count: number) => {
    for (let i = 0; i < count; i += 1000) {
      const tasks = Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({
        name: 'tasks.system.noop',
        args: { i: i + j },
      }));
      const res = await fetch(`${base}/tasks/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tasks }),
      });
      if (res.status !== 202) throw new Error(`batch submit gave ${res.status}: ${await res.text()}`);
    }
  };
  const succeeded = async () =>
    Number((await db.query(`SELECT count(*) AS n FROM task_runs WHERE state = 'SUCCESS'`))[0].n);
  const until = async (count: number) => {
    while ((await succeeded()) < count) await new Promise((r) => setTimeout(r, 10));
  };

  // The worker runs in its own process, as in production (the HTTP client and api here would
  // otherwise share its event loop). The queue is paused until it is up, so its start-up is
  // not timed, as raw BullMQ's is not.
  const queue = api.app.get(TaskQueues).get('default');
  await queue.pause();
  await submit(N);
  const worker = spawnWorker(databaseUrl, prefix);
  await waitForWorker(db);
  let start = performance.now();
  await queue.resume();
  await until(N);
  const drain = N / ((performance.now() - start) / 1000);

  start = performance.now();
  await submit(N);
  await until(2 * N);
  const e2e = N / ((performance.now() - start) / 1000);

  const latencies: number[] = [];
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/tasks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'tasks.system.noop', args: { i } }),
    });
    const { id } = (await res.json()) as { id: string };
    const run = (await (await fetch(`${base}/tasks/${id}?wait=10000`, { headers })).json()) as { state: string };
    if (run.state !== 'SUCCESS') throw new Error(`task ${id} ended ${run.state}`);
    latencies.push(performance.now() - t0);
  }
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await api.stop();
  return { drain, e2e, latencies: latencies.sort((a, b) => a - b) };
}

const ROOT = join(__dirname, '..');

/** A worker process is up once it has published its heartbeat. */
async function waitForWorker(db: DataSource): Promise<void> {
  while (Number((await db.query('SELECT count(*) AS n FROM worker_heartbeats'))[0].n) === 0)
    await new Promise((r) => setTimeout(r, 100));
}

function spawnWorker(databaseUrl: string, prefix: string, extra: Record<string, string> = {}) {
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
      join(ROOT, 'dist/main.js'),
    ],
    { env: { ...process.env, ...serviceEnv(databaseUrl, prefix, 'worker'), PORT: '0', ...extra }, stdio: 'ignore' },
  );
}

async function idleWorkerRssMb(databaseUrl: string): Promise<number> {
  const child = spawnWorker(databaseUrl, uniquePrefix('idle'), { WORKER_QUEUES: '' });
  await new Promise((r) => setTimeout(r, 8000));
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function main() {
  const database = await createBenchDatabase();
  try {
    console.log(`N = ${fmt(N)} no-op tasks, worker concurrency ${CONCURRENCY}, Redis ${REDIS_URL}\n`);
    if (!process.env.BENCH_NO_BUILD) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore' });
    const raw = await rawBullmq();
    const ours = await pipeline(database.url);
    const rss = await idleWorkerRssMb(database.url);
    const row = (label: string, a: number, b: number, unit: string, ratio: number) =>
      console.log(
        `${label.padEnd(34)} ${fmt(a).padStart(9)} ${fmt(b).padStart(9)}  ${unit.padEnd(8)} ${fmt(ratio, 2).padStart(6)}x`,
      );
    console.log(`${''.padEnd(34)} ${'raw'.padStart(9)} ${'pipeline'.padStart(9)}  ${''.padEnd(8)}  ratio`);
    row('drain (queued → done)', raw.drain, ours.drain, 'tasks/s', ours.drain / raw.drain);
    row('submit + run (workers running)', raw.e2e, ours.e2e, 'tasks/s', ours.e2e / raw.e2e);
    const p = (xs: number[], q: number) => percentile(xs, q);
    console.log(
      `${'latency p50 submit → SUCCESS'.padEnd(34)} ${fmt(p(raw.latencies, 50), 2).padStart(9)} ${fmt(p(ours.latencies, 50), 2).padStart(9)}  ${'ms'.padEnd(8)} ${fmt(p(ours.latencies, 50) / p(raw.latencies, 50), 2).padStart(6)}x`,
    );
    console.log(
      `${'latency p99 submit → SUCCESS'.padEnd(34)} ${fmt(p(raw.latencies, 99), 2).padStart(9)} ${fmt(p(ours.latencies, 99), 2).padStart(9)}  ${'ms'.padEnd(8)} ${fmt(p(ours.latencies, 99) / p(raw.latencies, 99), 2).padStart(6)}x`,
    );
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
