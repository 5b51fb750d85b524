import { EntityManager } from 'typeorm';
import { TaskRun } from '../records/entities/task-run.entity';
import { TaskRunStore } from '../records/task-run.store';
import { TaskQueues } from '../queues/task-queues.service';
import { StoreHealth } from '../store-health';
import { TaskEnqueuer } from './task-enqueuer';
import { TaskOutbox } from './task-outbox.service';
import { lockingDataSource } from '../../../test/support/locking-data-source';
import { quietLogger } from '../../../test/support/quiet-logger';

const BATCH = 500;

const records = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => Object.assign(new TaskRun(), { id: `r${from + i}`, queue: 'default' }));

function setup({ lockHeld = false } = {}) {
  const { dataSource, manager } = lockingDataSource(lockHeld);
  const batches: TaskRun[][] = [];
  const store = {
    lockOutboxBatch: jest.fn(async (_m: EntityManager, _cutoff: Date, _limit: number) => batches.shift() ?? []),
    markQueued: jest.fn(async (_ids: string[], _m?: EntityManager) => undefined),
  };
  const enqueuer = {
    hasBacklog: false,
    enqueue: jest.fn(async (_runs: TaskRun[]) => true),
    outboxDrained: jest.fn(),
  };
  const stores = new StoreHealth();
  const queue = { on: jest.fn() };
  const sut = new TaskOutbox(
    dataSource,
    store as unknown as TaskRunStore,
    enqueuer as unknown as TaskEnqueuer,
    stores,
    { all: () => [queue] } as unknown as TaskQueues,
  );
  return { sut, manager, store, enqueuer, stores, batches, queue };
}

describe('TaskOutbox', () => {
  const logs = quietLogger();

  it('queues full batches until a short one, marks each batch queued in its own transaction, then ends the backlog', async () => {
    const { sut, manager, store, enqueuer, batches } = setup();
    batches.push(records(BATCH), records(3, BATCH));
    await expect(sut.drain()).resolves.toBe(BATCH + 3);
    expect(enqueuer.enqueue.mock.calls.map(([runs]) => runs.length)).toEqual([BATCH, 3]);
    expect(store.markQueued).toHaveBeenCalledTimes(2);
    expect(store.markQueued).toHaveBeenLastCalledWith(['r500', 'r501', 'r502'], manager);
    expect(store.lockOutboxBatch).toHaveBeenCalledWith(manager, expect.any(Date), BATCH);
    expect(enqueuer.outboxDrained).toHaveBeenCalledTimes(1);
  });

  it('leaves records younger than a second to their own submit, unless this process has a backlog', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:10Z') });
    const { sut, store, enqueuer } = setup();
    await sut.drain();
    expect(store.lockOutboxBatch.mock.calls[0][1]).toEqual(new Date('2026-01-01T00:00:09Z'));
    enqueuer.hasBacklog = true;
    await sut.drain();
    expect(store.lockOutboxBatch.mock.calls[1][1]).toEqual(new Date('2026-01-01T00:00:10Z'));
  });

  it('stops at a transport that does not answer: nothing is marked and the backlog stays', async () => {
    const { sut, store, enqueuer, batches } = setup();
    batches.push(records(BATCH), records(BATCH, BATCH));
    enqueuer.enqueue.mockResolvedValueOnce(false);
    await expect(sut.drain()).resolves.toBe(0);
    expect(store.markQueued).not.toHaveBeenCalled();
    expect(store.lockOutboxBatch).toHaveBeenCalledTimes(1);
    expect(enqueuer.outboxDrained).not.toHaveBeenCalled();
  });

  it('does nothing while another replica holds the outbox lock', async () => {
    const { sut, store, enqueuer } = setup({ lockHeld: true });
    await expect(sut.drain()).resolves.toBe(0);
    expect(store.lockOutboxBatch).not.toHaveBeenCalled();
    expect(enqueuer.outboxDrained).not.toHaveBeenCalled();
  });

  it('drains every 500 ms, but not while the transport or the database is down', async () => {
    jest.useFakeTimers();
    const { sut, store, stores } = setup();
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(500);
    expect(store.lockOutboxBatch).toHaveBeenCalledTimes(1);
    stores.markDown('database', new Error('ECONNREFUSED'));
    await jest.advanceTimersByTimeAsync(2000);
    expect(store.lockOutboxBatch).toHaveBeenCalledTimes(1);
    stores.markUp('database');
    stores.markDown('transport', new Error('ECONNREFUSED'));
    await jest.advanceTimersByTimeAsync(2000);
    expect(store.lockOutboxBatch).toHaveBeenCalledTimes(1);
    await sut.onApplicationShutdown();
  });

  it('starts draining the moment the transport is back, without waiting for the next tick', async () => {
    jest.useFakeTimers();
    const { sut, store, stores } = setup();
    sut.onApplicationBootstrap();
    stores.markDown('transport', new Error('ECONNREFUSED'));
    stores.markUp('transport');
    await jest.advanceTimersByTimeAsync(0);
    expect(store.lockOutboxBatch).toHaveBeenCalledTimes(1);
    await sut.onApplicationShutdown();
  });

  it('reports queue errors as a transport outage', () => {
    const { sut, stores, queue } = setup();
    sut.onApplicationBootstrap();
    const [[event, listener]] = queue.on.mock.calls;
    expect(event).toBe('error');
    listener(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    expect(stores.isDown('transport')).toBe(true);
    return sut.onApplicationShutdown();
  });

  it('takes a database that drops during a pass as an outage, and logs any other failure', async () => {
    jest.useFakeTimers();
    const { sut, store, stores } = setup();
    sut.onApplicationBootstrap();
    store.lockOutboxBatch.mockRejectedValueOnce(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    await jest.advanceTimersByTimeAsync(500);
    expect(stores.isDown('database')).toBe(true);
    expect(logs.warn).not.toHaveBeenCalled();
    stores.markUp('database');
    store.lockOutboxBatch.mockRejectedValueOnce(new Error('syntax error'));
    await jest.advanceTimersByTimeAsync(500);
    expect(logs.warn).toHaveBeenCalledWith('Outbox pass failed: syntax error');
    await sut.onApplicationShutdown();
  });
});
