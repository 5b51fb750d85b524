import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { StoreHealth } from '../store-health';
import { TaskRetention } from './task-retention.service';
import { TaskRunStore } from './task-run.store';
import { ROLLUP_RETENTION_DAYS } from './task-statistics.service';
import { quietLogger } from '../../../test/support/quiet-logger';

const BATCH = 5000;
const INTERVAL_MS = 30_000;

function setup() {
  const transactions: string[][] = [];
  const dataSource = {
    transaction: jest.fn(async (work: (m: EntityManager) => Promise<unknown>) => {
      const statements: string[] = [];
      transactions.push(statements);
      const manager = { query: jest.fn(async (sql: string) => void statements.push(sql)) } as unknown as EntityManager;
      return work(manager);
    }),
  } as unknown as DataSource;
  const store = {
    deleteFinishedBefore: jest.fn(async (_m: EntityManager, _cutoff: Date, _limit: number) => 0),
    deleteRollupsOlderThan: jest.fn(async (_span: number, _days: number) => undefined),
  };
  const stores = new StoreHealth();
  const sut = new TaskRetention(
    AppConfig.fromEnv({ RESULT_EXPIRES_SECONDS: '3600', RECONCILE_INTERVAL_MS: String(INTERVAL_MS) }),
    dataSource,
    store as unknown as TaskRunStore,
    stores,
  );
  return { sut, store, stores, transactions };
}

describe('TaskRetention', () => {
  const logs = quietLogger();

  it('deletes records finished before the retention period, batch after batch until a short one', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T01:00:00Z') });
    const { sut, store } = setup();
    store.deleteFinishedBefore.mockResolvedValueOnce(BATCH).mockResolvedValueOnce(BATCH).mockResolvedValueOnce(12);
    await sut.expire();
    expect(store.deleteFinishedBefore).toHaveBeenCalledTimes(3);
    expect(store.deleteFinishedBefore).toHaveBeenCalledWith(expect.anything(), new Date('2026-01-01T00:00:00Z'), BATCH);
    expect(logs.log).toHaveBeenCalledWith(`Deleted ${2 * BATCH + 12} task records older than the retention period`);
  });

  it('deletes each batch in its own transaction, after waiting its turn for the retention lock', async () => {
    const { sut, store, transactions } = setup();
    store.deleteFinishedBefore.mockResolvedValueOnce(BATCH).mockResolvedValueOnce(1);
    await sut.expire();
    expect(transactions).toEqual([['SELECT pg_advisory_xact_lock($1)'], ['SELECT pg_advisory_xact_lock($1)']]);
  });

  it('prunes the per-minute and hourly statistics rollups after their own retention, and logs nothing when nothing expired', async () => {
    const { sut, store } = setup();
    await sut.expire();
    expect(store.deleteRollupsOlderThan.mock.calls).toEqual([
      [1, ROLLUP_RETENTION_DAYS.minutely],
      [60, ROLLUP_RETENTION_DAYS.hourly],
    ]);
    expect(logs.log).not.toHaveBeenCalled();
  });

  it('runs on the reconcile interval, not while a store is down, and logs a failed pass', async () => {
    jest.useFakeTimers();
    const { sut, store, stores } = setup();
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(store.deleteFinishedBefore).toHaveBeenCalledTimes(1);
    stores.markDown('database', new Error('ECONNREFUSED'));
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(store.deleteFinishedBefore).toHaveBeenCalledTimes(1);
    stores.markUp('database');
    store.deleteFinishedBefore.mockRejectedValueOnce(new Error('deadlock detected'));
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(logs.warn).toHaveBeenCalledWith('Retention pass failed: deadlock detected');
    await sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(store.deleteFinishedBefore).toHaveBeenCalledTimes(2);
  });
});
