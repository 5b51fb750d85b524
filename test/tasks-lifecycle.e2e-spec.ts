import { DataSource } from 'typeorm';
import { TaskRetention } from '../src/tasks/records/task-retention.service';
import { TaskState } from '../src/tasks/task-state';
import { ApiClient } from './support/api-client';
import { watchHandler } from './support/handler-watch';
import { startTestService, TestService } from './support/test-service';
import { lastReading, until } from './support/until';

describe('Task lifecycle over HTTP (Redis + PostgreSQL)', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    svc = await startTestService();
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  it('submits a task, runs it and returns its result', async () => {
    const submitted = await api.submit('tasks.system.noop', { hello: 'world', n: 1 });
    expect(submitted.state).toBe('PENDING');
    expect(submitted.links.self).toBe(`/tasks/${submitted.id}`);
    const done = await api.waitForTask(submitted.id);
    expect(done).toMatchObject({
      state: 'SUCCESS',
      result: { hello: 'world', n: 1 },
      attempts: 1,
      queue: 'default',
      error: null,
    });
    expect(new Date(done.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(done.startedAt).getTime());
    expect(done.workerId).toMatch(/#\d+$/);
  });

  it('long-polls with ?wait= until the task finishes', async () => {
    const submitted = await api.submit('tasks.system.sleep', { ms: 300 });
    const response = await api.get(`/tasks/${submitted.id}?wait=10000`);
    expect(response.status).toBe(200);
    expect(response.body.state).toBe('SUCCESS');
    expect(response.body.result.sleptMs).toBeGreaterThanOrEqual(300);
  });

  it('records RETRY between attempts, then FAILURE with the error and attempt count', async () => {
    const submitted = await api.submit('tasks.system.fail', { message: 'boom' });
    const seen = new Set<string>();
    const deadline = Date.now() + 30_000;
    let run: any;
    do {
      run = (await api.get(`/tasks/${submitted.id}`)).body;
      seen.add(run.state);
      await new Promise((r) => setTimeout(r, 20));
    } while (run.state !== 'FAILURE' && Date.now() < deadline);
    expect(seen).toContain('RETRY');
    expect(run).toMatchObject({
      state: 'FAILURE',
      attempts: 3,
      maxAttempts: 3,
      error: { type: 'Error', message: 'boom' },
    });
  });

  it('fails an UnrecoverableError after one attempt', async () => {
    const submitted = await api.submit('tasks.system.fail', { message: 'bad input', unrecoverable: true });
    const done = await api.waitForTask(submitted.id);
    expect(done).toMatchObject({
      state: 'FAILURE',
      attempts: 1,
      error: { type: 'UnrecoverableError', message: 'bad input' },
    });
  });

  it('aborts a run at its timeout and fails it with a timeout error after its retries', async () => {
    const sleepHandler = watchHandler(svc.service.app, 'tasks.system.sleep');
    try {
      const submitted = await api.submit('tasks.system.sleep', { ms: 20_000 }, { timeout: 300 });
      const done = await api.waitForTask(submitted.id, undefined, 30_000);
      expect(done).toMatchObject({ state: 'FAILURE', attempts: 3, error: { type: 'TaskTimeoutError' } });
      expect(done.error.message).toContain('300 ms');
      // The last attempt's handler was stopped by the timeout, not left sleeping its 20 s.
      const call = sleepHandler.call(submitted.id);
      expect(call?.signal.reason).toMatchObject({ name: 'TaskTimeoutError' });
      expect(await call!.end(15_000)).toEqual({
        ended: 'rejected',
        value: expect.objectContaining({ name: 'AbortError' }),
      });
    } finally {
      sleepHandler.restore();
    }
  });

  it('cancels a waiting (delayed) task: REVOKED, and it never runs', async () => {
    const submitted = await api.submit('tasks.system.noop', { x: 1 }, { delay: 60_000 });
    const cancelled = await api.post(`/tasks/${submitted.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('REVOKED');
    const queue = svc.service.app.get(require('../src/tasks/queues/task-queues.service').TaskQueues).get('default');
    expect(await queue.getJob(submitted.id)).toBeUndefined();
    expect((await api.post(`/tasks/${submitted.id}/cancel`)).status).toBe(409);
  });

  it('cancels an active task through its abort signal: the handler stops and the worker lets go', async () => {
    const sleepHandler = watchHandler(svc.service.app, 'tasks.system.sleep');
    const activeIds = async (): Promise<string[]> =>
      (await api.get('/workers')).body.workers.flatMap((w: any) => w.active.map((t: any) => t.id));
    try {
      const submitted = await api.submit('tasks.system.sleep', { ms: 30_000 });
      await api.waitForTask(submitted.id, [TaskState.STARTED]);
      await until(async () => (await activeIds()).includes(submitted.id), 'the running task in GET /workers');

      const cancelled = await api.post(`/tasks/${submitted.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.state).toBe('REVOKED');

      // The handler itself saw the cancel and stopped: its sleep ended on the signal, long before 30 s.
      const call = sleepHandler.call(submitted.id);
      expect(call).toBeDefined();
      expect(await call!.end(15_000)).toEqual({
        ended: 'rejected',
        value: expect.objectContaining({ name: 'AbortError' }),
      });
      expect(call!.signal.reason).toMatchObject({ name: 'TaskRevokedError' });
      // The worker let go of it: its heartbeat no longer lists the task.
      expect(await lastReading(activeIds, (ids) => !ids.includes(submitted.id), 15_000)).not.toContain(submitted.id);
      // And the record stays REVOKED: nothing wrote SUCCESS or RETRY after the cancel.
      expect((await api.get(`/tasks/${submitted.id}`)).body).toMatchObject({
        state: 'REVOKED',
        attempts: 1,
        error: { type: 'TaskRevokedError' },
      });
    } finally {
      sleepHandler.restore();
    }
  });

  it('retries a revoked task on request and runs it to SUCCESS', async () => {
    const submitted = await api.submit('tasks.system.noop', { again: true }, { delay: 60_000 });
    await api.post(`/tasks/${submitted.id}/cancel`);
    const retried = await api.post(`/tasks/${submitted.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.state).toBe('PENDING');
    expect(await api.waitForTask(submitted.id)).toMatchObject({ state: 'SUCCESS', result: { again: true } });
    expect((await api.post(`/tasks/${submitted.id}/retry`)).status).toBe(409);
  });

  it('returns the same task for the same Idempotency-Key', async () => {
    const body = { name: 'tasks.system.noop', args: { order: 42 } };
    const first = await api.post('/tasks', body, { 'Idempotency-Key': 'order-42' });
    const second = await api.post('/tasks', body, { 'Idempotency-Key': 'order-42' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const listed = await api.get('/tasks?name=tasks.system.noop&limit=500');
    expect(listed.body.items.filter((t: any) => t.args.order === 42)).toHaveLength(1);
  });

  it('submits a batch in one request', async () => {
    const tasks = Array.from({ length: 50 }, (_, i) => ({ name: 'tasks.system.noop', args: { i } }));
    const response = await api.post('/tasks/batch', { tasks });
    expect(response.status).toBe(202);
    expect(response.body.count).toBe(50);
    const done = await Promise.all(response.body.tasks.map((t: any) => api.waitForTask(t.id)));
    expect(done.map((t) => t.result.i).sort((a, b) => a - b)).toEqual(tasks.map((_, i) => i));
  });

  it('accepts a full batch of 1,000 tasks in one request', async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      name: 'tasks.system.noop',
      args: { index: i, padding: 'x'.repeat(100) },
    }));
    const response = await api.post('/tasks/batch', { tasks });
    expect(response.status).toBe(202);
    expect(response.body.count).toBe(1000);
    const last = response.body.tasks[999];
    expect((await api.get(`/tasks/${last.id}?wait=30000`)).body).toMatchObject({
      state: 'SUCCESS',
      result: { index: 999 },
    });
  });

  it('streams state changes as Server-Sent Events and ends with the final state', async () => {
    const submitted = await api.submit('tasks.system.sleep', { ms: 600 });
    const response = await fetch(`${svc.baseUrl}/tasks/${submitted.id}/events`, {
      headers: { authorization: `Bearer ${svc.env.ADMIN_API_KEY}` },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text(); // the server closes the stream after the final state
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[events.length - 1]).toMatchObject({ state: 'SUCCESS', result: { sleptMs: expect.any(Number) } });
    expect(events.map((e) => e.state)).toContain('STARTED');
  });

  it('lists tasks newest first with filters and cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.submit('tasks.system.noop', { page: i })).id);
    const page1 = await api.get('/tasks?name=tasks.system.*&limit=3');
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(3);
    expect(page1.body.items.map((t: any) => t.id)).toEqual(ids.slice(-3).reverse());
    const page2 = await api.get(`/tasks?name=tasks.system.*&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((t: any) => t.id)).toEqual(ids.slice(0, 2).reverse());
    expect((await api.get(`/tasks?parentId=${ids[0]}`)).body.items).toEqual([]);
    expect((await api.get('/tasks?parentId=nope')).status).toBe(400);
    const failures = await api.get('/tasks?state=FAILURE');
    expect(failures.body.items.every((t: any) => t.state === 'FAILURE')).toBe(true);
    const future = await api.get(`/tasks?from=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.body.items).toEqual([]);
  });

  it('deletes finished records past RESULT_EXPIRES_SECONDS and keeps the rest', async () => {
    const db = svc.service.app.get(DataSource);
    const old = (state: string, finished: boolean) =>
      db.query(
        `INSERT INTO task_runs (id, name, queue, args, state, attempts, max_attempts, run_at, created_at, updated_at, finished_at)
         VALUES (gen_random_uuid(), 'tasks.system.noop', 'default', '{}', $1, 1, 1, now() - interval '30 days', now() - interval '30 days', now() - interval '30 days', $2)
         RETURNING id`,
        [state, finished ? new Date(Date.now() - 30 * 86_400_000) : null],
      );
    const [[expired], [open]] = [await old('SUCCESS', true), await old('PENDING', false)];
    const recent = await api.submit('tasks.system.noop', {});
    await api.waitForTask(recent.id);
    await svc.service.app.get(TaskRetention).expire();
    expect((await api.get(`/tasks/${expired.id}`)).status).toBe(404);
    expect((await api.get(`/tasks/${open.id}`)).status).toBe(200);
    expect((await api.get(`/tasks/${recent.id}`)).status).toBe(200);
    await db.query('DELETE FROM task_runs WHERE id = $1', [open.id]);
  });

  it('lists the registered tasks with queue and policies', async () => {
    const response = await api.get('/tasks/registered');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'tasks.system.sleep',
          queue: 'default',
          queueSource: 'declared',
          maxAttempts: 3,
          timeoutMs: 3_600_000,
        }),
      ]),
    );
  });
});
