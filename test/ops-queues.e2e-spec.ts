import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';
import { until } from './support/until';

const QUEUES = ['file_tasks', 'email_tasks', 'api_calls', 'credits', 'export', 'default'];

/** Reads one sample from Prometheus text, 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('Operations: queue control, workers, stats, metrics (Redis)', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    svc = await startTestService({ WORKER_HEARTBEAT_MS: '1000' });
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  it('keeps admin routes from client keys (403) and anonymous callers (401)', async () => {
    const client = await svc.newClient();
    const anonymous = api.as(undefined);
    for (const [method, path] of [
      ['GET', '/queues'],
      ['POST', '/queues/default/pause'],
      ['POST', '/queues/default/purge'],
      ['GET', '/workers'],
      ['GET', '/stats'],
      ['GET', '/metrics'],
      ['GET', '/admin/queues'],
      ['GET', '/admin/queues/api/queues'],
    ]) {
      expect({ path, status: (await client.request(method, path)).status }).toEqual({ path, status: 403 });
      expect({ path, status: (await anonymous.request(method, path)).status }).toEqual({ path, status: 401 });
    }
    expect((await anonymous.get('/admin/queues')).headers.get('www-authenticate')).toMatch(
      /^Basic realm="Task service"/,
    );
  });

  it('lists every queue with counts by state, paused flag and oldest waiting age', async () => {
    const { status, body } = await api.get('/queues');
    expect(status).toBe(200);
    expect(body.queues.map((q: any) => q.name).sort()).toEqual([...QUEUES].sort());
    expect(body.queues[0]).toMatchObject({
      paused: false,
      oldestWaitingSeconds: expect.any(Number),
      counts: {
        waiting: expect.any(Number),
        delayed: expect.any(Number),
        active: expect.any(Number),
        failed: expect.any(Number),
        completed: expect.any(Number),
      },
    });
    expect((await api.get('/queues/nope')).status).toBe(404);
  });

  it('pause stops a queue from starting tasks; resume starts them again', async () => {
    expect((await api.post('/queues/default/pause')).body).toMatchObject({ name: 'default', paused: true });
    const task = await api.submit('tasks.system.noop', { paused: true });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api.get(`/tasks/${task.id}`)).body.state).toBe('PENDING');
    const queue = (await api.get('/queues/default')).body;
    expect(queue.counts.waiting).toBe(1);
    expect(queue.oldestWaitingSeconds).toBeGreaterThanOrEqual(1);
    expect((await api.post('/queues/default/resume')).body).toMatchObject({ paused: false });
    expect((await api.waitForTask(task.id)).state).toBe('SUCCESS');
  });

  it('purge removes waiting and delayed tasks and marks them REVOKED', async () => {
    await api.post('/queues/default/pause');
    const waiting = [await api.submit('tasks.system.noop', { n: 1 }), await api.submit('tasks.system.noop', { n: 2 })];
    const delayed = await api.submit('tasks.system.noop', { n: 3 }, { delay: 60_000 });
    const purged = await api.post('/queues/default/purge');
    expect(purged.body).toEqual({ queue: 'default', removed: 3, revoked: 3 });
    for (const task of [...waiting, delayed]) {
      const record = (await api.get(`/tasks/${task.id}`)).body;
      expect(record).toMatchObject({ state: 'REVOKED', error: { type: 'TaskRevokedError' } });
    }
    expect((await api.get('/queues/default')).body.counts).toMatchObject({ waiting: 0, delayed: 0 });
    await api.post('/queues/default/resume');
  });

  it('lists a running task under its worker while it runs (inspect active)', async () => {
    const task = await api.submit('tasks.system.sleep', { ms: 20_000 });
    const worker = await until(async () => {
      const { body } = await api.get('/workers');
      return body.workers.find((w: any) => w.active.some((t: any) => t.id === task.id));
    }, 'the running task in /workers');
    expect(worker).toMatchObject({
      pid: process.pid,
      host: expect.any(String),
      queues: expect.arrayContaining([{ name: 'default', concurrency: 8 }]),
    });
    expect(worker.active.find((t: any) => t.id === task.id)).toMatchObject({
      name: 'tasks.system.sleep',
      queue: 'default',
      attempt: 1,
      runtimeSeconds: expect.any(Number),
    });
    await api.post(`/tasks/${task.id}/cancel`);
    await until(
      async () =>
        !(await api.get('/workers')).body.workers.some((w: any) => w.active.some((t: any) => t.id === task.id)),
      'the task to leave /workers',
    );
  });

  it('changes metrics and stats after tasks finish', async () => {
    const before = (await api.get('/metrics')).body as string;
    const ok = await api.submit('tasks.system.noop', { m: 1 });
    const retried = await api.submit('tasks.system.sleep', { ms: 1, failTimes: 1 });
    const failed = await api.submit('tasks.system.sleep', { ms: 1, failTimes: 5 });
    await Promise.all([ok, retried, failed].map((t) => api.waitForTask(t.id)));
    const after = await until(async () => {
      const text = (await api.get('/metrics')).body as string;
      return (
        sample(text, 'tasks_finished_total{task="tasks.system.sleep",queue="default",state="FAILURE"}') >
          sample(before, 'tasks_finished_total{task="tasks.system.sleep",queue="default",state="FAILURE"}') && text
      );
    }, 'metrics to count the finished tasks');
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('tasks_finished_total{task="tasks.system.noop",queue="default",state="SUCCESS"}')).toBe(1);
    expect(delta('tasks_finished_total{task="tasks.system.sleep",queue="default",state="SUCCESS"}')).toBe(1);
    expect(delta('tasks_finished_total{task="tasks.system.sleep",queue="default",state="FAILURE"}')).toBe(1);
    expect(delta('task_retries_total{task="tasks.system.sleep",queue="default"}')).toBe(3);
    expect(delta('task_runtime_seconds_count{task="tasks.system.noop",queue="default",outcome="SUCCESS"}')).toBe(1);
    expect(after).toContain(
      'task_runtime_seconds_bucket{le="3600",task="tasks.system.noop",queue="default",outcome="SUCCESS"}',
    );
    expect(after).toMatch(/^queue_jobs\{queue="file_tasks",state="waiting"\} \d+$/m);
    expect(after).toMatch(/^queue_oldest_waiting_seconds\{queue="default"\} [\d.]+$/m);
    expect(after).toMatch(/^process_resident_memory_bytes \d+/m);

    const stats = (await api.get('/stats?windowMinutes=60')).body;
    const sleep = stats.tasks.find((t: any) => t.task === 'tasks.system.sleep');
    expect(sleep).toMatchObject({
      queue: 'default',
      failed: expect.any(Number),
      retried: expect.any(Number),
      runtimeP50Ms: expect.any(Number),
      runtimeP95Ms: expect.any(Number),
    });
    expect(sleep.failed).toBeGreaterThanOrEqual(1);
    expect(sleep.retried).toBeGreaterThanOrEqual(3);
    expect(stats.queues.find((q: any) => q.queue === 'default').processed).toBeGreaterThanOrEqual(3);
    expect((await api.get('/stats?windowMinutes=0')).status).toBe(400);
  });

  it('logs requests with the request id that is stored on the task', async () => {
    const response = await api.post(
      '/tasks',
      { name: 'tasks.system.noop', args: {} },
      { 'x-request-id': 'ops-trace-123' },
    );
    expect(response.headers.get('x-request-id')).toBe('ops-trace-123');
    expect((await api.get(`/tasks/${response.body.id}`)).body.requestId).toBe('ops-trace-123');
  });
});

describe('Operations on the PostgreSQL queue backend (no REDIS_URL)', () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService({ REDIS_URL: undefined });
  });
  afterAll(() => svc?.stop());

  it('lists, pauses, purges and resumes queues, and Bull Board shows every queue', async () => {
    const api = svc.admin;
    expect((await api.get('/queues')).body.queues.map((q: any) => q.name).sort()).toEqual([...QUEUES].sort());
    await api.post('/queues/default/pause');
    const task = await api.submit('tasks.system.noop', { backend: 'postgres' });
    await new Promise((r) => setTimeout(r, 1000));
    const paused = (await api.get('/queues/default')).body;
    expect(paused).toMatchObject({ paused: true, counts: { waiting: 1 } });
    expect(paused.oldestWaitingSeconds).toBeGreaterThan(0);
    expect((await api.post('/queues/default/purge')).body).toEqual({ queue: 'default', removed: 1, revoked: 1 });
    expect((await api.get(`/tasks/${task.id}`)).body.state).toBe('REVOKED');
    await api.post('/queues/default/resume');
    const basic = `Basic ${Buffer.from(`admin:${svc.env.ADMIN_API_KEY}`).toString('base64')}`;
    const board = await api.as(undefined).get('/admin/queues/api/queues', { authorization: basic });
    expect(board.status).toBe(200);
    expect(board.body.queues.map((q: any) => q.name).sort()).toEqual([...QUEUES].sort());
    const ready = await api.as(undefined).get('/health/ready');
    expect(ready.body.info.queue_transport).toMatchObject({ status: 'up', backend: 'postgres' });
  });
});
