/**
 * The HTTP front of `npm run bench:peers`: the api process (`dist/main.js`, `ROLE=api`, its own
 * process as in production) against a bare Express 5 and a bare Fastify 5 route with the same
 * JSON shapes (bench/bare-http.ts), loaded by Debian's `hey`: submit (`POST /tasks`, one task,
 * recorded durably before the 202), read (`GET /tasks/:id`) and liveness, then the api's RSS.
 * `BENCH_PROFILE_DIR` runs the api under `--cpu-prof`.
 */
import { loadAll } from 'js-yaml';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, serviceEnv } from './pipeline-run';
import { createBenchDatabase, REDIS_URL, rssMb, sleep, uniquePrefix } from './support';

/** The api's node flags in deploy/k8s/api.yaml, its heap cap aside: the bench starts it as deployed. */
function deployedApiFlags(): string {
  const objects = loadAll(readFileSync(join(ROOT, 'deploy/k8s/api.yaml'), 'utf8')) as any[];
  const args: string[] = objects.find((o) => o?.kind === 'Deployment').spec.template.spec.containers[0].args;
  return args
    .slice(1, args.indexOf('dist/main.js'))
    .filter((flag) => !flag.startsWith('--max-old-space-size'))
    .join(' ');
}

const run = promisify(execFile);
const ADMIN_KEY = 'bench-admin-key-0123456789';
const SUBMIT_BODY = JSON.stringify({ name: 'tasks.system.noop', args: { i: 1 } });

export interface HttpFigures {
  submit?: number;
  read?: number;
  live?: number;
  rssMb?: number;
  /** V8's heap (total, used) at the end of the load, from the api's /metrics. */
  heapTotalMb?: number;
  heapUsedMb?: number;
}

export interface HttpFront {
  ours: HttpFigures;
  express: HttpFigures;
  fastify: HttpFigures;
}

/** Requests per second of one `hey` run; non-2xx answers are counted as failures and reported. */
async function hey(url: string, seconds: number, connections: number, post?: string): Promise<number> {
  const args = ['-z', `${seconds}s`, '-c', String(connections), '-H', `Authorization: Bearer ${ADMIN_KEY}`];
  if (post) args.push('-m', 'POST', '-T', 'application/json', '-d', post);
  const { stdout } = await run('hey', [...args, url], { maxBuffer: 64 * 1024 * 1024 });
  const perSec = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const codes = [...stdout.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].map(([, code, n]) => ({ code, n: Number(n) }));
  const bad = codes.filter(({ code }) => !code.startsWith('2'));
  if (bad.length) console.log(`    ${url}: ${bad.map(({ code, n }) => `${n}× ${code}`).join(', ')}`);
  const good = codes.filter(({ code }) => code.startsWith('2')).reduce((sum, { n }) => sum + n, 0);
  const total = codes.reduce((sum, { n }) => sum + n, 0);
  return total ? (perSec * good) / total : perSec;
}

/** Starts a child process that prints its port (bare servers) or listens on a given one (ours). */
function started(child: ChildProcess, label: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
    child.once('exit', (code) => reject(new Error(`${label} exited ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

async function until(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not up after ${timeoutMs} ms`);
    await sleep(250);
  }
}

async function load(base: string, readId: string, seconds: number, connections: number): Promise<HttpFigures> {
  const submit = await hey(`${base}/tasks`, seconds, connections, SUBMIT_BODY);
  const read = await hey(`${base}/tasks/${readId}`, seconds, connections);
  const live = await hey(`${base}/health/live`, seconds, connections);
  return { submit, read, live };
}

async function bare(kind: 'express' | 'fastify', seconds: number, connections: number): Promise<HttpFigures> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'bare-http.ts'), kind], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await started(child, kind);
    const figures = await load(
      `http://127.0.0.1:${port}`,
      '0190f7c2-0000-7000-8000-000000000000',
      seconds,
      connections,
    );
    return { ...figures, rssMb: rssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

async function ours(seconds: number, connections: number): Promise<HttpFigures> {
  const database = await createBenchDatabase();
  const port = 31_000 + Math.floor(Math.random() * 2000);
  const env = { ...serviceEnv({ databaseUrl: database.url, redisUrl: REDIS_URL }, uniquePrefix('http'), 'api', 8) };
  const { REDIS_URL: _inherited, ...parent } = process.env;
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []),
      ...(process.env.BENCH_API_NODE_FLAGS ?? deployedApiFlags()).split(' ').filter(Boolean),
      join(ROOT, 'dist/main.js'),
    ],
    { env: { ...parent, ...env, PORT: String(port) }, stdio: 'ignore' },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(`${base}/health/live`);
    const first = await fetch(`${base}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: SUBMIT_BODY,
    });
    const { id } = (await first.json()) as { id: string };
    const figures = await load(base, id, seconds, connections);
    const rss = rssMb(child.pid!);
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    const mb = (name: string) => {
      const value = new RegExp(`^${name} ([\\d.e+]+)`, 'm').exec(metrics)?.[1];
      return value === undefined ? undefined : Number(value) / 1024 / 1024;
    };
    return {
      ...figures,
      rssMb: rss,
      heapTotalMb: mb('nodejs_heap_size_total_bytes'),
      heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    };
  } finally {
    await stop(child);
    await database.drop();
  }
}

/** Ours, bare Express and bare Fastify, one after another (each load alone on the machine). */
export async function runHttpFront(seconds: number, connections: number): Promise<HttpFront> {
  return {
    fastify: await bare('fastify', seconds, connections),
    express: await bare('express', seconds, connections),
    ours: await ours(seconds, connections),
  };
}

export function printHttpFront({ ours, express, fastify }: HttpFront): void {
  const f = (n: number | undefined, digits = 0) =>
    (n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits })).padStart(9);
  const r = (a: number | undefined, b: number | undefined) =>
    (a === undefined || !b ? '—' : `${(a / b).toFixed(2)}x`).padStart(8);
  console.log(
    `HTTP front (hey)                        ${['ours', 'express', 'fastify', 'ours/exp', 'ours/fst'].map((h) => h.padStart(9)).join('')}`,
  );
  const rows: [string, keyof HttpFigures, string][] = [
    ['POST /tasks (one task, durable)', 'submit', 'req/s'],
    ['GET /tasks/:id', 'read', 'req/s'],
    ['GET /health/live', 'live', 'req/s'],
    ['RSS at the end of the load', 'rssMb', 'MB'],
    ['  V8 heap total / used', 'heapTotalMb', 'MB'],
    ['', 'heapUsedMb', 'MB'],
  ];
  for (const [label, key, unit] of rows)
    console.log(
      `${label.padEnd(32)} ${unit.padEnd(6)} ${f(ours[key])}${f(express[key])}${f(fastify[key])} ${r(ours[key], express[key])} ${r(ours[key], fastify[key])}`,
    );
}
