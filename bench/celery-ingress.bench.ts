/**
 * The Celery ingress against Celery's own prefork worker, on the same kind of private broker,
 * with the same caller: the old app (test/celery/app/tasks/celery.py, the old guide's
 * configuration) making N `.delay()` calls of `tasks.system.noop` from 4 Python threads while
 * the workers run, then waiting for every result in the Redis result backend.
 *
 *   enqueue/s = N / time of the .delay() calls (the Python client's own cost, both sides)
 *   e2e/s     = N / (last result's date_done − first call)
 *
 * Usage: npm run build && node -r @swc-node/register bench/celery-ingress.bench.ts
 *   N=10000 THREADS=4 CELERY_VARIANTS="prefork-2 prefork-8" WORKER_CONCURRENCY=50
 * Needs /usr/bin/python3 with python3-celery and python3-redis, redis-server, PostgreSQL and the
 * local Redis (the service's own transport) as the other benches.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './pipeline-run';
import { createBenchDatabase, fmt, machineLoad, REDIS_URL, sleep, uniquePrefix } from './support';

const N = Number(process.env.N ?? 10_000);
const THREADS = Number(process.env.THREADS ?? 4);
const VARIANTS = (process.env.CELERY_VARIANTS ?? 'prefork-2').split(/\s+/).filter(Boolean);
const PYTHON = '/usr/bin/python3';
const APP_DIR = join(ROOT, 'test/celery');

interface Volume {
  n: number;
  states: Record<string, number>;
  enqueue_s: number;
  e2e_s: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startBroker(): Promise<{ url: string; cli(...args: string[]): string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      mkdtempSync(join(tmpdir(), 'celery-bench-')),
    ],
    { stdio: 'ignore' },
  );
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args]).stdout?.toString() ?? '';
  while (!cli('ping').includes('PONG')) await sleep(50);
  return { url: `redis://127.0.0.1:${port}/0`, cli, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const exited = new Promise((r) => child.once('exit', r));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function python(args: string[], brokerUrl: string, stderr: 'inherit' | 'ignore' = 'inherit'): ChildProcess {
  return spawn(PYTHON, args, {
    cwd: APP_DIR,
    // C_FORCE_ROOT: the bench box may run as root; Celery would only warn.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PYTHONPATH: APP_DIR,
      CELERY_BROKER_URL: brokerUrl,
      C_FORCE_ROOT: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdio: ['ignore', 'pipe', stderr],
  });
}

async function volume(brokerUrl: string): Promise<Volume> {
  const child = python(['client.py', 'volume', String(N), String(THREADS)], brokerUrl);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`client.py volume exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** The service (api + workers + ingress in one process) against the broker. */
async function runIngress(brokerUrl: string, cli: (...a: string[]) => string): Promise<Volume> {
  const db = await createBenchDatabase();
  const service = spawn(process.execPath, [join(ROOT, 'dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: uniquePrefix('celery'),
      ROLE: 'all',
      PORT: '0',
      LOG_LEVEL: 'error',
      ADMIN_API_KEY: 'bench-admin-key-0123456789',
      WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '50',
      STATS_SCHEDULE: 'false',
      CELERY_BROKER_URL: brokerUrl,
    },
    stdio: 'ignore',
  });
  try {
    // The pidbox subscription is made once the ingress consumes.
    while (Number(cli('PUBSUB', 'NUMPAT')) < 1) await sleep(100);
    return await volume(brokerUrl);
  } finally {
    await stop(service);
    await db.drop();
  }
}

async function runCelery(brokerUrl: string, variant: string): Promise<Volume> {
  const [pool, concurrency] = variant.split('-');
  const worker = python(
    [
      '-m',
      'celery',
      '-A',
      'app.tasks.celery',
      'worker',
      '-Q',
      'celery',
      '-P',
      pool,
      '-c',
      concurrency,
      '--loglevel=WARNING',
    ],
    brokerUrl,
  );
  try {
    // The worker is ready once it answers a ping.
    const ping = () =>
      python(['-m', 'celery', '-A', 'app.tasks.celery', 'inspect', 'ping', '--timeout', '2'], brokerUrl, 'ignore');
    while ((await new Promise((r) => ping().once('exit', r))) !== 0) await sleep(500);
    return await volume(brokerUrl);
  } finally {
    await stop(worker);
  }
}

function line(label: string, v: Volume, base?: Volume): string {
  const ok = v.states.SUCCESS === N ? 'all SUCCESS' : JSON.stringify(v.states);
  const ratio = base ? `  ingress/this ${(base.e2e_s > 0 ? v.e2e_s / base.e2e_s : NaN).toFixed(2)}x` : '';
  return `${label.padEnd(22)} enqueue ${fmt(N / v.enqueue_s).padStart(6)}/s  e2e ${fmt(N / v.e2e_s).padStart(6)}/s  (${v.e2e_s.toFixed(1)} s, ${ok})${ratio}`;
}

async function main(): Promise<void> {
  console.log(
    `Celery ingress vs Celery workers: ${N} .delay() of tasks.system.noop from ${THREADS} threads (${machineLoad()})`,
  );
  const results: [string, Volume][] = [];
  {
    const broker = await startBroker();
    try {
      results.push(['task-service ingress', await runIngress(broker.url, broker.cli)]);
      console.log(line(...results[0]), `(${machineLoad()})`);
    } finally {
      await broker.stop();
    }
  }
  for (const variant of VARIANTS) {
    const broker = await startBroker();
    try {
      const v = await runCelery(broker.url, variant);
      results.push([`celery ${variant}`, v]);
      console.log(line(`celery ${variant}`, v, results[0][1]), `(${machineLoad()})`);
    } finally {
      await broker.stop();
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
