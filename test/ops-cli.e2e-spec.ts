import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiClient } from './support/api-client';
import { builtFile, freePort, ServiceProcess, spawnService } from './support/processes';
import { ADMIN_KEY, testEnvironment } from './support/test-service';
import { until } from './support/until';

const ROOT = resolve(__dirname, '..');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`node dist/cli.js …`, from this run's build) the way an operator would. */
function cli(env: Record<string, string | undefined>, args: string[], input?: string): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [builtFile('cli.js'), ...args], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    child.once('exit', (code) => done({ code, stdout, stderr }));
    child.stdin!.end(input ?? '');
  });
}

describe('Operations: the CLI against a running instance', () => {
  let redis: ChildProcess;
  let service: ServiceProcess;
  let env: Record<string, string | undefined>;
  let api: ApiClient;

  beforeAll(async () => {
    // A Redis of its own that evicts keys, so the start-up warning has something to warn about.
    const redisPort = await freePort();
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        mkdtempSync(join(tmpdir(), 'ops-redis-')),
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      { stdio: 'ignore' },
    );
    const port = await freePort();
    // noop goes to a queue no worker consumes, so purge finds exactly what this spec put there.
    env = testEnvironment({
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      PORT: String(port),
      ROLE: 'api',
      LOG_LEVEL: 'info',
      WORKER_HEARTBEAT_MS: '1000',
      TASK_ROUTES: '{"tasks.system.noop":"ops_cli"}',
    });
    await until(async () => {
      const probe = await cli({ ...env, ROLE: undefined }, ['--help']);
      return probe.code === 0;
    }, 'the CLI to start');
    service = spawnService(env);
    await service.waitFor('listening on', 60_000);
    env = { ...env, TASK_SERVICE_URL: `http://127.0.0.1:${port}`, TASK_SERVICE_API_KEY: ADMIN_KEY };
    api = new ApiClient(env.TASK_SERVICE_URL!, ADMIN_KEY);
  }, 120_000);

  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    redis?.kill('SIGKILL');
  });

  it('warns at start when Redis may evict keys', () => {
    expect(service.output()).toMatch(/maxmemory-policy is \\?"allkeys-lru\\?" on [^,]+, not \\?"noeviction\\?"/);
  });

  it('worker --queues --concurrency starts a worker that runs tasks and shows in inspect active', async () => {
    const worker = spawn(
      process.execPath,
      [builtFile('cli.js'), 'worker', '--queues', 'default', '--concurrency', '3'],
      { cwd: ROOT, env: { ...env, PORT: '0' } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    worker.stdout!.on('data', (c) => (output += c));
    worker.stderr!.on('data', (c) => (output += c));
    try {
      const task = await api.submit('tasks.system.sleep', { ms: 120_000 });
      const active = await until(async () => {
        const run = await cli(env, ['inspect', 'active', '--json']);
        const workers = JSON.parse(run.stdout || '[]');
        return workers.find((w: any) => w.pid === worker.pid && w.active.some((t: any) => t.id === task.id));
      }, 'the worker to run the task');
      expect(active.queues).toEqual([{ name: 'default', concurrency: 3 }]);
      const human = await cli(env, ['inspect', 'active']);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(task.id);
      expect(human.stdout).toMatch(/queues: default\(3\)/);
      await api.post(`/tasks/${task.id}/cancel`);
      expect((await api.waitForTask(task.id)).state).toBe('REVOKED');

      // The worker listens for its probes and scrapes, and serves nothing of the api.
      const port = /health and metrics on :(\d+)/.exec(output)![1];
      const workerHttp = new ApiClient(`http://127.0.0.1:${port}`, ADMIN_KEY);
      expect((await workerHttp.get('/health/live')).status).toBe(200);
      expect((await workerHttp.get('/health/ready')).status).toBe(200);
      expect((await workerHttp.get('/metrics')).body).toMatch(
        /^tasks_finished_total\{task="tasks.system.sleep",queue="default",state="REVOKED"\} 1$/m,
      );
      expect((await workerHttp.get('/queues')).status).toBe(404);
      expect((await workerHttp.get('/admin/queues')).status).toBe(404);
    } finally {
      worker.kill('SIGTERM');
      const code = await new Promise((r) => worker.once('exit', r));
      expect({ code, output: code === 0 ? '' : output.slice(-2000) }).toEqual({ code: 0, output: '' });
    }
  });

  it('inspect registered lists every task with its queue (celery_app.tasks.keys())', async () => {
    const json = await cli(env, ['inspect', 'registered', '--json']);
    expect(json.code).toBe(0);
    const tasks = JSON.parse(json.stdout);
    // TASK_ROUTES sends noop to ops_cli in this spec: the listing shows the routing in effect.
    expect(tasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'tasks.system.noop', queue: 'ops_cli' }),
        expect.objectContaining({ name: 'tasks.system.sleep', queue: 'default' }),
      ]),
    );
    const human = await cli(env, ['inspect', 'registered']);
    expect(human.stdout).toMatch(/^tasks\.system\.sleep\s+default\s+3\s/m);
  });

  it('inspect stats and inspect queues report per queue and task', async () => {
    const stats = await cli(env, ['inspect', 'stats', '--json', '--window', '60']);
    expect(stats.code).toBe(0);
    // Stats come from the run's shared database: other specs' tasks count too, so at least ours.
    const report = JSON.parse(stats.stdout);
    expect(report.windowMinutes).toBe(60);
    expect(report.tasks.find((t: any) => t.task === 'tasks.system.sleep').revoked).toBeGreaterThanOrEqual(1);
    expect((await cli(env, ['inspect', 'stats'])).stdout).toMatch(
      /^tasks\.system\.sleep\s+default\s+\d+\s+\d+\s+\d+\s+[1-9]\d*\s/m,
    );
    const queues = await cli(env, ['inspect', 'queues']);
    expect(queues.stdout).toMatch(/^default\s+no\s+0\s+0\s/m);
    expect(queues.stdout).toMatch(/^ops_cli\s+no\s/m);
  });

  it('purge asks for confirmation, purges with --yes, and status shows the REVOKED task', async () => {
    expect((await cli(env, ['pause', 'ops_cli'])).stdout).toContain('Queue ops_cli is paused');
    const task = await api.submit('tasks.system.noop', { purge: true });
    const declined = await cli(env, ['purge', 'ops_cli'], 'n\n');
    expect(declined.code).toBe(1);
    expect(declined.stderr).toMatch(/remove 1 waiting\/delayed task\(s\)[\s\S]*Aborted/);
    expect((await api.get(`/tasks/${task.id}`)).body.state).toBe('PENDING');
    const purged = await cli(env, ['purge', 'ops_cli', '--yes', '--json']);
    expect(JSON.parse(purged.stdout)).toEqual({ queue: 'ops_cli', removed: 1, revoked: 1 });
    const status = await cli(env, ['status', task.id, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: task.id, state: 'REVOKED' });
    expect((await cli(env, ['resume', 'ops_cli'])).stdout).toContain('Queue ops_cli is running');
  });

  it('migrate reports an up-to-date schema', async () => {
    const run = await cli(env, ['migrate', '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ applied: [] });
  });

  it('apikey create / list / revoke manage keys that the running API honours', async () => {
    const created = await cli(env, ['apikey', 'create', '--name', 'cli-e2e-client', '--role', 'client', '--json']);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ name: 'cli-e2e-client', role: 'client', secret: expect.stringMatching(/^tsk_/) });
    const asClient = api.as(key.secret);
    expect((await asClient.get('/tasks')).status).toBe(200);
    expect((await asClient.get('/queues')).status).toBe(403);
    const list = await cli(env, ['apikey', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${key.id}\\s+cli-e2e-client\\s+client\\s`, 'm'));
    expect(list.stdout).not.toContain(key.secret);
    const revoked = await cli(env, ['apikey', 'revoke', key.id]);
    expect(revoked.code).toBe(0);
    await until(async () => (await asClient.get('/tasks')).status === 401, 'the revoked key to be refused', 10_000);
    expect((await cli(env, ['apikey', 'revoke', key.id])).code).toBe(1);
  });

  it('explains usage mistakes with exit code 2', async () => {
    const run = await cli(env, ['inspect', 'everything']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: task-service');
    // An unknown command, an unknown flag and a task id that is not one are usage mistakes too.
    for (const args of [['frobnicate'], ['inspect', 'active', '--bogus'], ['status', 'not-a-task-id']]) {
      const mistake = await cli(env, args);
      expect({ args, code: mistake.code }).toEqual({ args, code: 2 });
      expect(mistake.stderr).toContain('Usage: task-service');
    }
  });

  it('exits 78 (EX_CONFIG) on a configuration error, as the service does', async () => {
    const badConfig = await cli({ ...env, PORT: 'not-a-port' }, ['migrate']);
    expect(badConfig.code).toBe(78);
    expect(badConfig.stderr).toContain('PORT');
    const noKey = await cli({ ...env, ADMIN_API_KEY: undefined, TASK_SERVICE_API_KEY: undefined }, [
      'inspect',
      'queues',
    ]);
    expect(noKey.code).toBe(78);
    expect(noKey.stderr).toContain('No API key');
    expect(noKey.stderr).not.toContain('    at ');
  });
});
