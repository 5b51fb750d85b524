import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitUntil } from '../support/processes';

/** Debian's python3 with python3-celery (Celery 5), not a pyenv python on PATH. */
export const PYTHON = '/usr/bin/python3';
const HERE = resolve(__dirname);

export interface CeleryBroker {
  url: string;
  port: number;
  /** redis-cli against the broker (synchronous: only for small checks). */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/**
 * A private redis-server as the old broker. `oldGuidePort`: on 6380, the old guide's port, where
 * free (one spec asks for it; the others take a free port, so specs running side by side never
 * share a broker).
 */
export async function startCeleryBroker(oldGuidePort = false): Promise<CeleryBroker> {
  const port = oldGuidePort && (await portIsFree(6380)) ? 6380 : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'celery-broker-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args]).stdout?.toString() ?? '';
  await waitUntil(async () => child.exitCode !== null || cli('ping').includes('PONG'), 10_000, 50);
  // Another process took the port in between: this server exited, and the PONG was not ours.
  await new Promise((r) => setTimeout(r, 100));
  if (child.exitCode !== null) return startCeleryBroker(false);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    cli,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a Python script of test/celery (or `-m celery …`) with the old app's broker; resolves with stdout. */
export function python(args: string[], brokerUrl: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(PYTHON, args, {
      cwd: HERE,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PYTHONPATH: HERE,
        PYTHONDONTWRITEBYTECODE: '1',
        CELERY_BROKER_URL: brokerUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(out);
      else
        reject(new Error(`python3 ${args.join(' ')} exited with ${code}:\n${err.slice(-4000)}\n${out.slice(-2000)}`));
    });
  });
}

/** The JSON line a client.py command prints. */
export async function client<T = any>(brokerUrl: string, ...args: string[]): Promise<T> {
  const out = await python(['client.py', ...args], brokerUrl);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/**
 * The old guide's operator command: `celery -A app.tasks.celery <args>`. Replies are awaited 3 s
 * instead of Celery's 1 s, so a busy CI box does not make the command print "No nodes replied".
 */
export function celeryCli(brokerUrl: string, ...args: string[]): Promise<string> {
  const timeout = args[0] === 'inspect' || args[0] === 'control' ? ['--timeout', '3'] : [];
  return python(['-m', 'celery', '-A', 'app.tasks.celery', ...args, ...timeout], brokerUrl);
}

export { waitUntil };
