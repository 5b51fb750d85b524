import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
