import { TaskQueues } from '../src/tasks/queues/task-queues.service';
import { TaskState } from '../src/tasks/task-state';
import { startTestService, TestService } from './support/test-service';

/**
 * Retry policy from configuration, and a handler asking for its next attempt's delay
 * (RetryAfterError): the job waits delayed in BullMQ, the record shows RETRY with the planned
 * time, and the operator's attempt count applies.
 */
describe('Retry policy: TASK_RETRY_OVERRIDES and RetryAfterError', () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService({
      TASK_RETRY_OVERRIDES: JSON.stringify({ 'tasks.system.fail': { attempts: 2, backoffMs: 100 } }),
    });
  });
  afterAll(() => svc?.stop());

  it('waits the delay a handler asked for, delayed in the queue, with the planned time on the record', async () => {
    const task = await svc.admin.submit('tasks.system.fail', { retryAfterMs: 3_000, message: 'busy, come back later' });
    // The operator's override, not the declared 3 attempts.
    expect(task.maxAttempts).toBe(2);
    const retry = await svc.admin.waitForTask(task.id, [TaskState.RETRY], 20_000);
    expect(retry.error).toMatchObject({ type: 'RetryAfterError', message: 'busy, come back later' });
    const firstEnd = new Date(retry.startedAt).getTime() + retry.runtimeMs;
    const planned = new Date(retry.runAt).getTime();
    expect(planned - firstEnd).toBeGreaterThanOrEqual(2_900);
    expect(planned - firstEnd).toBeLessThan(4_000);
    // Waiting in BullMQ, not asleep in a worker slot.
    const job = await svc.service.app.get(TaskQueues).get(task.queue).getJob(task.id);
    expect(await job!.getState()).toBe('delayed');

    const done = await svc.admin.waitForTask(task.id, undefined, 20_000);
    expect(done).toMatchObject({ state: TaskState.FAILURE, attempts: 2 });
    expect(new Date(done.startedAt).getTime()).toBeGreaterThanOrEqual(planned - 50);
  });

  it('shows the effective policy in GET /tasks/registered', async () => {
    const registered = await svc.admin.get('/tasks/registered');
    const fail = registered.body.find((t: { name: string }) => t.name === 'tasks.system.fail');
    expect(fail).toMatchObject({ maxAttempts: 2, backoffMs: 100 });
  });

  it('uses the overridden backoff for ordinary failures', async () => {
    const task = await svc.admin.submit('tasks.system.fail', {});
    const done = await svc.admin.waitForTask(task.id, undefined, 20_000);
    expect(done).toMatchObject({ state: TaskState.FAILURE, attempts: 2, maxAttempts: 2 });
  });
});
