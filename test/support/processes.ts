import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

const ROOT = resolve(__dirname, '../..');

/** A file of this test run's build of the service (see global-setup), e.g. `main.js`, `cli.js`. */
export function builtFile(relative: string): string {
  return join(process.env.TEST_BUILD_DIR ?? join(ROOT, 'dist'), relative);
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once `text` appears in the output. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Runs the built service (`main.js` of the run's build) as a child process, for kill and restart tests. */
export function spawnService(env: Record<string, string | undefined>, args: string[] = []): ServiceProcess {
  const child = spawn(process.execPath, [builtFile('main.js'), ...args], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolveWait, reject) => {
        const matches = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
        if (matches()) return resolveWait();
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`Timed out waiting for ${text} in service output:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const check = () => {
          if (matches()) {
            clearTimeout(timer);
            listeners.delete(check);
            resolveWait();
          }
        };
        listeners.add(check);
        void exited.then(() => {
          if (!matches()) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`Service exited before ${text} appeared:\n${output.slice(-4000)}`));
          }
        });
      }),
  };
}

export interface PrivateRedis {
  url: string;
  stop(): void;
}

/** A redis-server of its own on a free port, for tests that flush or kill it. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('redis-cli', ['-p', String(port), 'ping'])
        .stdout?.toString()
        .includes('PONG')
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => child.kill('SIGKILL') };
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface RestartableServer {
  url: string;
  port: number;
  /** Stops the server (connections drop); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves once it answers. */
  start(): Promise<void>;
}

/** A private redis-server that can be stopped and started again on its port, empty (nothing is saved). */
export async function startRestartableRedis(): Promise<RestartableServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    await waitUntil(
      async () =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'])
          .stdout?.toString()
          .includes('PONG') ?? false,
      10_000,
      50,
    );
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}/0`, port, stop, start };
}

export interface PrivatePostgres extends RestartableServer {
  /** A connection URL for `database` on this server (`postgres` by default). */
  urlFor(database: string): string;
  /** Stops for good and removes the data directory. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster of its own (the machine's `initdb`/`postgres`, or those in `PG_BIN`) on
 * a free port, for tests that stop the database. As root the server runs as the `postgres`
 * user, since PostgreSQL refuses to run as root.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const bin = (name: string) => (process.env.PG_BIN ? join(process.env.PG_BIN, name) : name);
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot
    ? {
        uid: Number(spawnSync('id', ['-u', 'postgres']).stdout.toString()),
        gid: Number(spawnSync('id', ['-g', 'postgres']).stdout.toString()),
      }
    : {};
  if (asRoot) chownSync(dir, owner.uid!, owner.gid!);
  const data = join(dir, 'data');
  const init = spawnSync(bin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], {
    ...owner,
    encoding: 'utf8',
  });
  if (init.status !== 0)
    throw new Error(`initdb failed (set PG_BIN to PostgreSQL's bin directory): ${init.stderr ?? init.error}`);
  let child: ChildProcess | null = null;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    // Durability is not under test: fsync off keeps the suite quick on a shared disk.
    child = spawn(
      bin('postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
      { ...owner, stdio: 'ignore' },
    );
    await waitUntil(
      async () => {
        const probe = new Client({ connectionString: url });
        try {
          await probe.connect();
          return true;
        } catch {
          return false;
        } finally {
          await probe.end().catch(() => undefined);
        }
      },
      30_000,
      100,
    );
  };
  // SIGINT is PostgreSQL's "fast" shutdown: open sessions are cut, as when a database goes away.
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGINT');
    await exited;
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    urlFor: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
