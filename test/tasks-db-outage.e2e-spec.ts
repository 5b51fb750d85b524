import { TaskState } from '../src/tasks/task-state';
import { ApiClient } from './support/api-client';
import {
  freePort,
  PrivatePostgres,
  ServiceProcess,
  spawnService,
  startPrivatePostgres,
  waitUntil,
} from './support/processes';
import { ADMIN_KEY, testEnvironment } from './support/test-service';

const OUTAGE_MS = 5_000;
const JOB_LOCK_MS = 2_000;

/**
 * PostgreSQL stopped under running tasks, longer than a job lock: tasks that end meanwhile are
 * recorded once it is back (their jobs kept locked, not re-run), a task that needs the database
 * waits it out without using an attempt, submits get a fast 503 naming the database, readiness
 * fails and liveness does not, and the log says it once each way.
 */
describe('Workers ride out a PostgreSQL outage', () => {
  let pg: PrivatePostgres;
  let service: ServiceProcess;
  let api: ApiClient;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    const port = await freePort();
    service = spawnService(
      testEnvironment({
        DATABASE_URL: pg.url,
        ROLE: 'all',
        PORT: String(port),
        LOG_LEVEL: 'info',
        JOB_LOCK_MS: String(JOB_LOCK_MS),
        HEALTH_CHECK_TIMEOUT_MS: '500',
        // One attempt: a failure blamed on the outage would end it FAILURE at once.
        TASK_RETRY_OVERRIDES: JSON.stringify({ 'tasks.stats.collect': { attempts: 1 } }),
      }),
    );
    await service.waitFor('listening on');
    api = new ApiClient(`http://127.0.0.1:${port}`, ADMIN_KEY);
  });
  afterAll(async () => {
    service?.child.kill('SIGKILL');
    await service?.exited;
    await pg?.destroy().catch(() => undefined);
  });

  it('records tasks that end during the outage once it is back; submit answers 503 fast', async () => {
    const tasks = await Promise.all([1, 2, 3].map(() => api.submit('tasks.system.sleep', { ms: 1_500 })));
    await Promise.all(tasks.map((t) => api.waitForTask(t.id, [TaskState.STARTED], 20_000)));
    // Starts during the outage and needs the database: it waits in BullMQ, using no attempt.
    const needsDb = await api.submit('tasks.stats.collect', {}, { delay: 1_000 });

    await pg.stop();
    const started = Date.now();
    const submit = await api.post('/tasks', { name: 'tasks.system.noop', args: {} });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(submit.status).toBe(503);
    expect(submit.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(submit.body).toMatchObject({ statusCode: 503, unavailable: 'database' });
    expect(JSON.stringify(submit.body)).toContain('database');

    // The tasks finish while the database is away: their final writes wait and retry.
    await waitUntil(async () => service.output().includes('The database is unreachable'), 10_000);
    const ready = await api.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.database).toMatchObject({ status: 'down' });
    expect((await api.get('/health/live')).status).toBe(200);
    // Longer than a job lock: only a lock kept renewed stops BullMQ from running the jobs again.
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - started)));

    await pg.start();
    const done = await Promise.all(tasks.map((t) => api.waitForTask(t.id, undefined, 30_000)));
    expect(done.map((t) => [t.state, t.attempts])).toEqual(Array(3).fill([TaskState.SUCCESS, 1]));
    // Each finished during the outage and was recorded with its real end, not the recovery time.
    for (const t of done) expect(new Date(t.finishedAt).getTime()).toBeLessThan(started + OUTAGE_MS);
    const collected = await api.waitForTask(needsDb.id, undefined, 30_000);
    expect(collected).toMatchObject({ state: TaskState.SUCCESS, attempts: 1 });
    expect(service.output()).toMatch(new RegExp(`without using an attempt","taskId":"${needsDb.id}"`));
    await waitUntil(async () => (await api.get('/health/ready')).status === 200, 15_000);
    // StoreHealth's own lines: once down, once back, however many writes failed in between.
    expect(service.output().split('"msg":"The database is unreachable"').length - 1).toBe(1);
    expect(service.output().split('"msg":"The database is reachable again"').length - 1).toBe(1);
    expect(service.output()).not.toMatch(/"outcome":"FAILURE"/);
  });
});
