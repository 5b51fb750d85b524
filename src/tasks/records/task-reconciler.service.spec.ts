import { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { TaskQueues } from '../queues/task-queues.service';
import { StoreHealth } from '../store-health';
import { TaskEnqueuer } from '../submit/task-enqueuer';
import { TaskState } from '../task-state';
import { TaskRun } from './entities/task-run.entity';
import { TaskReconciler } from './task-reconciler.service';
import { TaskRunStore } from './task-run.store';
import { lockingDataSource } from '../../../test/support/locking-data-source';
import { quietLogger } from '../../../test/support/quiet-logger';

const INTERVAL_MS = 30_000;
const MIN_AGE_MS = 30_000;

const record = (id: string, state = TaskState.STARTED) =>
  Object.assign(new TaskRun(), { id, name: 'tasks.system.noop', queue: 'default', state });

/** A BullMQ job as the reconciler sees it. */
const job = (state: string) => ({ getState: jest.fn(async () => state), retry: jest.fn(async () => undefined) });

function setup({ lockHeld = false } = {}) {
  const { dataSource, manager } = lockingDataSource(lockHeld);
  const jobs = new Map<string, ReturnType<typeof job>>();
  const states = new Map<string, TaskState>();
  const store = {
    findStaleOpen: jest.fn(async (_m: EntityManager, _cutoff: Date, _limit: number): Promise<TaskRun[]> => []),
    stateOf: jest.fn(async (_m: EntityManager, id: string) => states.get(id) ?? TaskState.STARTED),
    touchOpen: jest.fn(async (_m: EntityManager, _ids: string[]) => undefined),
  };
  const enqueuer = { requeue: jest.fn(async (_run: TaskRun) => undefined) };
  const stores = new StoreHealth();
  const sut = new TaskReconciler(
    AppConfig.fromEnv({ RECONCILE_INTERVAL_MS: String(INTERVAL_MS), RECONCILE_MIN_AGE_MS: String(MIN_AGE_MS) }),
    { get: () => ({ getJob: async (id: string) => jobs.get(id) }) } as unknown as TaskQueues,
    enqueuer as unknown as TaskEnqueuer,
    dataSource,
    store as unknown as TaskRunStore,
    stores,
  );
  return { sut, manager, store, enqueuer, stores, jobs, states };
}

describe('TaskReconciler', () => {
  quietLogger();

  it('queues again an open record whose job is gone from the transport', async () => {
    const { sut, store, enqueuer } = setup();
    const lost = record('lost');
    store.findStaleOpen.mockResolvedValueOnce([lost]);
    await expect(sut.reconcile()).resolves.toBe(1);
    expect(enqueuer.requeue).toHaveBeenCalledWith(lost);
  });

  it('leaves a record whose job is still in the transport alone, and retries one whose job failed', async () => {
    const { sut, store, enqueuer, jobs } = setup();
    const waiting = job('waiting');
    const failed = job('failed');
    jobs.set('waiting', waiting).set('failed', failed);
    store.findStaleOpen.mockResolvedValueOnce([record('waiting'), record('failed')]);
    await expect(sut.reconcile()).resolves.toBe(1);
    expect(waiting.retry).not.toHaveBeenCalled();
    expect(failed.retry).toHaveBeenCalledWith('failed');
    expect(enqueuer.requeue).not.toHaveBeenCalled();
  });

  it('does not requeue a record that finished between the scan and the check', async () => {
    const { sut, store, enqueuer, states } = setup();
    states.set('done', TaskState.SUCCESS);
    store.findStaleOpen.mockResolvedValueOnce([record('done')]);
    await expect(sut.reconcile()).resolves.toBe(0);
    expect(enqueuer.requeue).not.toHaveBeenCalled();
  });

  it('scans records untouched for the minimum age, and touches what it checked so the next pass moves on', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:01:00Z') });
    const { sut, manager, store, jobs } = setup();
    jobs.set('a', job('active'));
    store.findStaleOpen.mockResolvedValueOnce([record('a'), record('b')]);
    await sut.reconcile();
    expect(store.findStaleOpen).toHaveBeenCalledWith(manager, new Date('2026-01-01T00:00:30Z'), 500);
    expect(store.touchOpen).toHaveBeenCalledWith(manager, ['a', 'b']);
  });

  it('touches nothing when nothing was found', async () => {
    const { sut, store } = setup();
    await sut.reconcile();
    expect(store.touchOpen).not.toHaveBeenCalled();
  });

  it('leaves the pass to the replica that holds the reconciler lock', async () => {
    const { sut, store } = setup({ lockHeld: true });
    await expect(sut.reconcile()).resolves.toBe(0);
    expect(store.findStaleOpen).not.toHaveBeenCalled();
  });

  it('runs at its interval once started, skips the ticks of an outage and stops on shutdown', async () => {
    jest.useFakeTimers();
    const { sut, store, stores } = setup();
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(store.findStaleOpen).toHaveBeenCalledTimes(1);
    stores.markDown('transport', new Error('ECONNREFUSED'));
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    stores.markUp('transport');
    stores.markDown('database', new Error('ECONNREFUSED'));
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(store.findStaleOpen).toHaveBeenCalledTimes(1);
    stores.markUp('database');
    await sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(store.findStaleOpen).toHaveBeenCalledTimes(1);
  });
});
