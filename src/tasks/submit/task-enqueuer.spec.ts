import { NotFoundException } from '@nestjs/common';
import { TaskRun } from '../records/entities/task-run.entity';
import { TaskRunStore } from '../records/task-run.store';
import { TaskQueues } from '../queues/task-queues.service';
import { TASK_BACKOFF, TaskRetryPolicies } from '../run/task-retry-policy';
import { StoreHealth } from '../store-health';
import { TaskRegistry } from '../task-registry.service';
import { TaskState } from '../task-state';
import { ENQUEUE_TIMEOUT_MS, TaskEnqueuer } from './task-enqueuer';
import { quietLogger } from '../../../test/support/quiet-logger';

function run(id: string, queue = 'default', overrides: Partial<TaskRun> = {}): TaskRun {
  return Object.assign(new TaskRun(), {
    id,
    name: 'tasks.system.noop',
    queue,
    owner: null,
    args: { n: id },
    state: TaskState.PENDING,
    priority: 0,
    timeoutMs: null,
    runAt: new Date(Date.now()),
    enqueuedAt: new Date(),
    ...overrides,
  });
}

function setup() {
  const queue = (name: string) => ({
    name,
    add: jest.fn(async () => ({})),
    addBulk: jest.fn(async () => []),
  });
  const queues = { default: queue('default'), email: queue('email') };
  const store = { unmarkQueued: jest.fn(async () => undefined), clearQueuedMark: jest.fn(async () => undefined) };
  const stores = new StoreHealth();
  const registry = { get: jest.fn((name: string) => (name === 'tasks.gone' ? undefined : {})) };
  const policies = { policyFor: () => ({ attempts: 3, backoffMs: 500 }) };
  const sut = new TaskEnqueuer(
    registry as unknown as TaskRegistry,
    { get: (name: 'default' | 'email') => queues[name] } as unknown as TaskQueues,
    store as unknown as TaskRunStore,
    stores,
    policies as unknown as TaskRetryPolicies,
  );
  return { sut, queues, store, stores };
}

describe('TaskEnqueuer', () => {
  quietLogger();

  it('adds one job per record under the record id, one addBulk per queue, in order', async () => {
    const { sut, queues } = setup();
    await expect(sut.enqueue([run('a'), run('b'), run('c', 'email')])).resolves.toBe(true);
    expect(queues.default.addBulk).toHaveBeenCalledWith([
      expect.objectContaining({
        name: 'tasks.system.noop',
        data: { args: { n: 'a' }, owner: null },
        opts: expect.objectContaining({ jobId: 'a' }),
      }),
      expect.objectContaining({ opts: expect.objectContaining({ jobId: 'b' }) }),
    ]);
    // A queue with one job gets a plain add (no MULTI).
    expect(queues.email.add).toHaveBeenCalledWith(
      'tasks.system.noop',
      expect.anything(),
      expect.objectContaining({ jobId: 'c' }),
    );
    expect(queues.email.addBulk).not.toHaveBeenCalled();
  });

  it('gives the job the retry policy, a delay until runAt, a priority and the timeout of the record', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const { sut, queues } = setup();
    const later = run('a', 'default', { runAt: new Date('2026-01-01T00:00:05Z'), priority: 4, timeoutMs: 900 });
    await sut.enqueue([later]);
    expect(queues.default.add).toHaveBeenCalledWith(
      'tasks.system.noop',
      { args: { n: 'a' }, owner: null, timeoutMs: 900 },
      { jobId: 'a', attempts: 3, backoff: { type: TASK_BACKOFF, delay: 500 }, delay: 5000, priority: 4 },
    );
  });

  it('answers false and marks the transport down when the adds take longer than the timeout', async () => {
    jest.useFakeTimers();
    const { sut, queues, stores } = setup();
    queues.default.add.mockReturnValue(new Promise(() => undefined));
    const enqueued = sut.enqueue([run('a')]);
    await jest.advanceTimersByTimeAsync(ENQUEUE_TIMEOUT_MS + 2);
    await expect(enqueued).resolves.toBe(false);
    expect(stores.isDown('transport')).toBe(true);
    // While the transport is known to be down, it is not asked at all.
    await expect(sut.enqueue([run('b')])).resolves.toBe(false);
    expect(queues.default.add).toHaveBeenCalledTimes(1);
  });

  it('requeues an existing record, and leaves it to the outbox when the transport is down', async () => {
    const { sut, queues, store, stores } = setup();
    const record = run('a');
    await sut.requeue(record);
    expect(queues.default.add).toHaveBeenCalledTimes(1);
    expect(store.unmarkQueued).not.toHaveBeenCalled();
    stores.markDown('transport', new Error('ECONNREFUSED'));
    await sut.requeue(record);
    expect(store.unmarkQueued).toHaveBeenCalledWith('a');
    expect(record.enqueuedAt).toBeNull();
  });

  it('refuses to requeue a task that is no longer registered', async () => {
    const { sut, queues } = setup();
    await expect(sut.requeue(run('a', 'default', { name: 'tasks.gone' }))).rejects.toBeInstanceOf(NotFoundException);
    expect(queues.default.add).not.toHaveBeenCalled();
  });

  it('holds a backlog from the first record kept in the outbox until the outbox is drained', async () => {
    const { sut, store } = setup();
    expect(sut.queuesDirectly).toBe(true);
    await sut.keepInOutbox([], true);
    expect(sut.hasBacklog).toBe(false);
    const kept = [run('a'), run('b')];
    await sut.keepInOutbox(kept, true);
    expect(sut.hasBacklog).toBe(true);
    expect(sut.queuesDirectly).toBe(false);
    expect(kept.map((r) => r.enqueuedAt)).toEqual([null, null]);
    expect(store.clearQueuedMark).toHaveBeenCalledWith(['a', 'b']);
    sut.outboxDrained();
    expect(sut.queuesDirectly).toBe(true);
  });

  it('clears no mark for records inserted unmarked, and survives a mark it cannot clear', async () => {
    const { sut, store } = setup();
    await sut.keepInOutbox([run('a')], false);
    expect(store.clearQueuedMark).not.toHaveBeenCalled();
    store.clearQueuedMark.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    await expect(sut.keepInOutbox([run('b')], true)).resolves.toHaveLength(1);
  });

  it('does not queue directly while the transport is down', () => {
    const { sut, stores } = setup();
    stores.markDown('transport', new Error('ECONNREFUSED'));
    expect(sut.queuesDirectly).toBe(false);
    expect(sut.hasBacklog).toBe(false);
  });
});
