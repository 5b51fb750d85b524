/**
 * Our pipeline as a caller sees it: HTTP submit to an api process (in this process), a worker in
 * its own process (`dist/main.js`, `ROLE=worker`), durable records, `SUCCESS` committed.
 * Shared by `npm run bench` and `npm run bench:peers`; on Redis or, without `redisUrl`, on
 * BullMQ's PostgreSQL backend in the same database.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { FINISHED_CHANNEL } from '../src/tasks/records/task-completions.service';
import { TaskQueues } from '../src/tasks/queues/task-queues.service';
import { RunResult } from './raw-bullmq';
import { rssMb, sleep, uniquePrefix } from './support';

export const ROOT = join(__dirname, '..');
const ADMIN_KEY = 'bench-admin-key-0123456789';
const HEADERS = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

export interface PipelineOptions {
  databaseUrl: string;
  /** Unset: BullMQ's PostgreSQL backend on `databaseUrl` (the embedded default's transport). */
  redisUrl?: string;
  n: number;
  concurrency: number;
  latencySamples: number;
  io?: { n: number; ms: number; concurrency: number };
}

export function serviceEnv(
  options: Pick<PipelineOptions, 'databaseUrl' | 'redisUrl'>,
  prefix: string,
  role: string,
  concurrency: number,
): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    QUEUE_PREFIX: prefix,
    ROLE: role,
    PORT: '0',
    LOG_LEVEL: 'error',
    ADMIN_API_KEY: ADMIN_KEY,
    WORKER_CONCURRENCY: String(concurrency),
    WORKER_QUEUES: 'default',
  };
}

export function spawnWorker(env: Record<string, string>) {
  const { REDIS_URL: _inherited, ...parent } = process.env;
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
      join(ROOT, 'dist/main.js'),
    ],
    // The parent's REDIS_URL must not turn a PostgreSQL-backend worker into a Redis one.
    { env: { ...parent, ...env }, stdio: 'ignore' },
  );
}

type Child = ReturnType<typeof spawnWorker>;

async function stopWorker(child: Child): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** A worker process is up once it has published its heartbeat. */
async function waitForWorker(db: DataSource): Promise<void> {
  while (Number((await db.query('SELECT count(*) AS n FROM worker_heartbeats'))[0].n) === 0) await sleep(100);
}

export async function runPipeline(options: PipelineOptions): Promise<RunResult> {
  const { n } = options;
  const prefix = uniquePrefix('pipe');
  const api = await startService(AppConfig.fromEnv(serviceEnv(options, prefix, 'api', options.concurrency)));
  const base = `http://127.0.0.1:${(api.app.getHttpServer().address() as AddressInfo).port}`;
  const db = api.app.get(DataSource);
  // A diagnostic: what the stats rollup triggers on task_runs cost (docs/benchmarks.md).
  if (process.env.BENCH_WITHOUT_ROLLUP_TRIGGERS)
    await db.query(
      'ALTER TABLE task_runs DISABLE TRIGGER task_run_rollups_inserted, DISABLE TRIGGER task_run_rollups_updated',
    );
  const submit = async (count: number, task: (i: number) => object) => {
    for (let i = 0; i < count; i += 1000) {
      const tasks = Array.from({ length: Math.min(1000, count - i) }, (_, j) => task(i + j));
      const res = await fetch(`${base}/tasks/batch`, {
        method: 'POST',
        headers: HEADERS,
        body: JSON.stringify({ tasks }),
      });
      if (res.status !== 202) throw new Error(`batch submit gave ${res.status}: ${await res.text()}`);
    }
  };
  const noop = (i: number) => ({ name: 'tasks.system.noop', args: { i } });
  const succeeded = async () =>
    Number((await db.query(`SELECT count(*) AS n FROM task_runs WHERE state = 'SUCCESS'`))[0].n);
  // Completions are counted from the writer's commit notifications, as raw BullMQ's are counted
  // from its events: polling count(*) every few ms kept a database core busy during our drain
  // only. The count is confirmed by one query at the end (and re-polled slowly, should a
  // notification be missed).
  const listener = new Client({ connectionString: options.databaseUrl });
  await listener.connect();
  let notified = 0;
  listener.on('notification', (message) => (notified += message.payload ? message.payload.split(',').length : 0));
  await listener.query(`LISTEN ${FINISHED_CHANNEL}`);
  const until = async (count: number) => {
    for (let polls = 0; ; polls++) {
      if ((notified >= count || polls % 50 === 49) && (await succeeded()) >= count) return;
      await sleep(5);
    }
  };

  // The queue is paused until the worker is up, so its start-up is not timed (as raw BullMQ's is not).
  const queue = api.app.get(TaskQueues).get('default');
  await queue.pause();
  await submit(n, noop);
  let worker = spawnWorker(serviceEnv(options, prefix, 'worker', options.concurrency));
  await waitForWorker(db);
  let start = performance.now();
  await queue.resume();
  await until(n);
  const drain = n / ((performance.now() - start) / 1000);

  start = performance.now();
  await submit(n, noop);
  await until(2 * n);
  const e2e = n / ((performance.now() - start) / 1000);

  const latencies: number[] = [];
  for (let i = 0; i < options.latencySamples; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/tasks`, { method: 'POST', headers: HEADERS, body: JSON.stringify(noop(i)) });
    const { id } = (await res.json()) as { id: string };
    const run = (await (await fetch(`${base}/tasks/${id}?wait=10000`, { headers: HEADERS })).json()) as {
      state: string;
    };
    if (run.state !== 'SUCCESS') throw new Error(`task ${id} ended ${run.state}`);
    latencies.push(performance.now() - t0);
  }
  await stopWorker(worker);

  let io: number | undefined;
  if (options.io) {
    // A second worker with the I/O concurrency drains sleep tasks queued while none ran.
    const { ms, concurrency } = options.io;
    const before = await succeeded();
    await queue.pause();
    await submit(options.io.n, () => ({ name: 'tasks.system.sleep', args: { ms } }));
    await db.query('DELETE FROM worker_heartbeats');
    worker = spawnWorker(serviceEnv(options, prefix, 'worker', concurrency));
    await waitForWorker(db);
    start = performance.now();
    await queue.resume();
    await until(before + options.io.n);
    io = options.io.n / ((performance.now() - start) / 1000);
    await stopWorker(worker);
  }
  await listener.end();
  await api.stop();
  return { drain, e2e, latencies: latencies.sort((a, b) => a - b), io };
}

/**
 * RSS of an idle worker process (`ROLE`, `WORKER_QUEUES`; empty = every queue) `settleMs` after
 * start.
 */
export async function idleWorkerRssMb(
  options: Pick<PipelineOptions, 'databaseUrl' | 'redisUrl'>,
  queues = '',
  role = 'worker',
  settleMs = 8000,
): Promise<number> {
  const env = serviceEnv(options, uniquePrefix('idle'), role, 8);
  const child = spawnWorker({ ...env, WORKER_QUEUES: queues });
  await sleep(settleMs);
  const rss = rssMb(child.pid!);
  await stopWorker(child);
  return rss;
}
