import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiClient } from './support/api-client';
import { builtFile, freePort, ServiceProcess, spawnService } from './support/processes';

const ROOT = resolve(__dirname, '..');

/** What a new user has: no DATABASE_URL, no REDIS_URL, a fresh DATA_DIR. */
function embeddedEnvironment(dataDir: string, port: number, pgPort: number): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(pgPort),
    LOG_LEVEL: 'info',
    STATS_SCHEDULE: 'false',
  };
}

/** Runs the built service to its exit, collecting stdout and stderr apart. */
function runToExit(
  env: Record<string, string | undefined>,
  nodeArgs: string[] = [],
  file = 'main.js',
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...nodeArgs, builtFile(file), ...args], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** Standard output only (spawnService mixes both streams). */
function stdoutOf(service: ServiceProcess): Promise<string> {
  let out = '';
  service.child.stdout!.on('data', (c) => (out += c));
  return service.exited.then(() => out);
}

async function stop(service: ServiceProcess): Promise<number | null> {
  service.child.kill('SIGTERM');
  return service.exited;
}

describe('A first start on the embedded defaults', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'task-service-first-start-'));
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('logs JSON from the first line, prints the admin key once on stderr, and a second process joins its PostgreSQL', async () => {
    const pgPort = await freePort();
    const apiPort = await freePort();
    const api = spawnService(embeddedEnvironment(dataDir, apiPort, pgPort), ['--role', 'api']);
    const apiStdout = stdoutOf(api);
    let worker: ServiceProcess | undefined;
    try {
      await api.waitFor(/Admin API key \(shown once\): (\S+)/, 90_000);
      await api.waitFor('listening on', 30_000);
      const key = /Admin API key \(shown once\): (\S+)/.exec(api.output())![1];

      // The README's second process, on the same DATA_DIR while the first runs: it joins, it does not crash.
      const workerPort = await freePort();
      worker = spawnService(embeddedEnvironment(dataDir, workerPort, pgPort), [
        '--role',
        'worker',
        '--queues',
        'default',
      ]);
      const workerStdout = stdoutOf(worker);
      await worker.waitFor('workers running', 60_000);
      expect(worker.output()).toContain('Joined the embedded PostgreSQL');
      expect(worker.output()).toMatch(/"msg":"Role worker: .*consumes default\(\d+\)"/);

      // Only the joined worker consumes `default`: the task succeeding proves it works on the shared store.
      const client = new ApiClient(`http://127.0.0.1:${apiPort}`, key);
      const task = await client.submit('tasks.system.noop', { joined: true });
      expect(await client.waitForTask(task.id, undefined, 30_000)).toMatchObject({
        state: 'SUCCESS',
        result: { joined: true },
      });

      expect(await stop(worker)).toBe(0);
      worker = undefined;
      // The joined worker left the server running for the process that started it.
      expect((await client.get('/tasks/registered')).status).toBe(200);
      expect(await stop(api)).toBe(0);
      // The starter stops its server when it stops.
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

      const lines = (await apiStdout).split('\n').filter(Boolean);
      const workerLines = (await workerStdout).split('\n').filter(Boolean);
      // Every line on stdout, the first included, is a JSON log line (no coloured Nest line).
      for (const line of [...lines, ...workerLines]) expect(() => JSON.parse(line)).not.toThrow();
      const records = lines.map((l) => JSON.parse(l) as { msg: string; context?: string });
      // Nest's module and route mapping is debug-level chatter.
      expect(
        records.filter((r) => ['RoutesResolver', 'RouterExplorer', 'InstanceLoader'].includes(r.context!)),
      ).toEqual([]);
      expect(records.map((r) => r.msg)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^Role api: listening on :\d+; store: embedded PostgreSQL .*; transport: .*; consumes no queue$/,
          ),
          expect.stringMatching(/^Registered \d+ tasks by queue: .*default: .*tasks\.system\.noop/),
        ]),
      );
      // The secret is printed once, as plain text on stderr, never in a log line.
      expect(api.output().split(key).length - 1).toBe(1);
      expect(await apiStdout).not.toContain(key);
    } finally {
      if (worker) await stop(worker);
      if (api.child.exitCode === null) await stop(api);
    }
  });

  it('a taken port ends the start with one line naming the port, EMBEDDED_POSTGRES_PORT and DATABASE_URL', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const run = await runToExit(embeddedEnvironment(dataDir, await freePort(), port));
      expect(run.code).not.toBe(0);
      expect(run.stderr).not.toContain('TypeError');
      const lines = run.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(String(port));
      expect(lines[0]).toContain('EMBEDDED_POSTGRES_PORT');
      expect(lines[0]).toContain('DATABASE_URL');
    } finally {
      blocker.close();
    }
  });

  it("a failed embedded start (a rejection with no Error) shows PostgreSQL's own log lines", async () => {
    // A data directory PostgreSQL cannot use: embedded-postgres rejects with `undefined`.
    mkdirSync(join(dataDir, 'postgres'), { recursive: true });
    writeFileSync(join(dataDir, 'postgres', 'PG_VERSION'), '9\n');
    const run = await runToExit(embeddedEnvironment(dataDir, await freePort(), await freePort()));
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('TypeError');
    expect(run.stderr).toContain('did not start');
    expect(run.stderr).toMatch(/postgres: |FATAL/);
  });

  it('refuses a Node.js older than the lockfile needs, with one line naming the version', async () => {
    const preload = join(dataDir, 'old-node.js');
    writeFileSync(preload, "Object.defineProperty(process.versions, 'node', { value: '20.19.0' });\n");
    for (const file of ['main.js', 'cli.js']) {
      const run = await runToExit(embeddedEnvironment(dataDir, 1, 1), ['-r', preload], file, ['--help']);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('Node.js >= 22.22.3')]);
    }
  });
});
