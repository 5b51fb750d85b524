import { isFinal, TaskState } from '../src/tasks/task-state';
import { RestartableServer, startRestartableRedis } from './support/processes';
import { startTestService, TestService } from './support/test-service';
import { lastReading } from './support/until';

/**
 * The transactional outbox: with its Redis down, the service still accepts tasks (202, the
 * committed record marked `queued: false`) and queues them, in submission order and once
 * each, as soon as Redis is back — here empty, as after a restart without persistence.
 */
describe('Submit survives a transport outage (outbox)', () => {
  let redis: RestartableServer;
  let svc: TestService;

  beforeAll(async () => {
    redis = await startRestartableRedis();
    // One worker slot on the default queue, so the run order shows the queueing order.
    svc = await startTestService({ REDIS_URL: redis.url, WORKER_CONCURRENCY: '1', HEALTH_CHECK_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.stop();
  });

  it('answers 202 while Redis is down, then queues every task once, in order', async () => {
    const before = await svc.admin.submit('tasks.system.noop', { i: 0 });
    expect(before.queued).toBe(true);
    await svc.admin.waitForTask(before.id, undefined, 20_000);

    await redis.stop();
    const singles = [];
    for (let i = 1; i <= 5; i++)
      singles.push(await svc.admin.post('/tasks', { name: 'tasks.system.noop', args: { i } }));
    const batch = await svc.admin.post('/tasks/batch', {
      tasks: [6, 7, 8, 9, 10].map((i) => ({ name: 'tasks.system.noop', args: { i } })),
    });
    expect(singles.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(batch.status).toBe(202);
    const submitted = [...singles.map((r) => r.body), ...batch.body.tasks];
    expect(submitted.map((t) => [t.state, t.queued])).toEqual(Array(10).fill([TaskState.PENDING, false]));

    const ready = await svc.admin.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.queue_transport).toMatchObject({ status: 'down' });
    expect((await svc.admin.get('/health/live')).status).toBe(200);
    const listed = await svc.admin.get(`/tasks/${submitted[0].id}`);
    expect(listed.body).toMatchObject({ state: 'PENDING', queued: false });

    await redis.start();
    const records = async () => Promise.all(submitted.map(async (t) => (await svc.admin.get(`/tasks/${t.id}`)).body));
    const done = await lastReading(records, (runs) => runs.every((t) => isFinal(t.state)), 40_000);
    expect(done.map((t) => [t.state, t.queued])).toEqual(Array(10).fill([TaskState.SUCCESS, true]));
    expect(done.map((t) => t.result.i)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Once each, and in submission order.
    expect(done.map((t) => t.attempts)).toEqual(Array(10).fill(1));
    const started = done.map((t) => new Date(t.startedAt).getTime());
    expect([...started].sort((a, b) => a - b)).toEqual(started);
    const readiness = async () => (await svc.admin.get('/health/ready')).status;
    expect(await lastReading(readiness, (status) => status === 200, 10_000)).toBe(200);
  });
});
