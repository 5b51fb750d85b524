import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { StoreHealth } from '../store-health';
import { TaskRetention } from './task-retention.service';
import { TaskRunStore } from './task-run.store';
import { DAY_MS, DayPartition, firstIdAt, TaskRunPartitions, Transact } from './task-run-partitions';
import { ROLLUP_RETENTION_DAYS } from './task-statistics.service';
import { quietLogger } from '../../../test/support/quiet-logger';

const BATCH = 5000;
const INTERVAL_MS = 30_000;

function setup(days: number[] = []) {
  const transactions: string[][] = [];
  const dataSource = {
    manager: {} as EntityManager,
    transaction: jest.fn(async (work: (m: EntityManager) => Promise<unknown>) => {
      const statements: string[] = [];
      transactions.push(statements);
      const manager = { query: jest.fn(async (sql: string) => void statements.push(sql)) } as unknown as EntityManager;
      return work(manager);
    }),
  } as unknown as DataSource;
  const store = {
    deleteFinishedBefore: jest.fn(async (_m: EntityManager, _cutoff: Date, _keptFrom: string, _limit: number) => 0),
    deleteRollupsOlderThan: jest.fn(async (_span: number, _days: number) => undefined),
  };
  const partitions = {
    list: jest.fn(async (): Promise<DayPartition[]> =>
      days.map((day) => ({ name: `p${day}`, day, from: firstIdAt(day), to: firstIdAt(day + DAY_MS) })),
    ),
    ensure: jest.fn(
      async (transact: Transact, _day: number): Promise<string[]> => (await transact(async () => [])) ?? [],
    ),
    drop: jest.fn(async (_m: EntityManager, _day: number, _cutoff: Date): Promise<number | null> => 1000),
  };
  const stores = new StoreHealth();
  const sut = new TaskRetention(
    AppConfig.fromEnv({ RESULT_EXPIRES_SECONDS: '3600', RECONCILE_INTERVAL_MS: String(INTERVAL_MS) }),
    dataSource,
    store as unknown as TaskRunStore,
    stores,
    partitions as unknown as TaskRunPartitions,
  );
  return { sut, store, stores, partitions, transactions };
}

describe('TaskRetention', () => {
  const logs = quietLogger();

  it('deletes records finished before the retention period, batch after batch until a short one', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T01:00:00Z') });
    const { sut, store } = setup();
    store.deleteFinishedBefore.mockResolvedValueOnce(BATCH).mockResolvedValueOnce(BATCH).mockResolvedValueOnce(12);
    await sut.expire();
    expect(store.deleteFinishedBefore).toHaveBeenCalledTimes(3);
    // Records of 2026-01-01 wait for their day's partition to go whole.
    expect(store.deleteFinishedBefore).toHaveBeenCalledWith(
      expect.anything(),
      new Date('2026-01-01T00:00:00Z'),
      firstIdAt(Date.parse('2026-01-01T00:00:00Z')),
      BATCH,
    );
    expect(logs.log).toHaveBeenCalledWith(
      `Deleted task records older than the retention period: about 0 in whole days, ${2 * BATCH + 12} one by one`,
    );
  });

  it("makes today's and the next two days' partitions, and drops the days wholly past the retention period", async () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    jest.useFakeTimers({ now });
    const day = (d: number) => Date.parse(`2026-01-${String(d).padStart(2, '0')}T00:00:00Z`);
    const { sut, partitions } = setup([day(8), day(9), day(10)]);
    partitions.drop.mockResolvedValueOnce(700).mockResolvedValueOnce(null);
    await sut.expire(now + 2 * DAY_MS);
    expect(partitions.ensure.mock.calls.map(([, d]) => d)).toEqual([day(12), day(13), day(14)]);
    // The cutoff is 2026-01-12 11:00: the 8th, the 9th and the 10th are due, the 9th is kept.
    const cutoff = new Date('2026-01-12T11:00:00Z');
    expect(partitions.drop.mock.calls.map(([, d, c]) => [d, c])).toEqual([
      [day(8), cutoff],
      [day(9), cutoff],
      [day(10), cutoff],
    ]);
    expect(logs.log).toHaveBeenCalledWith(
      'Deleted task records older than the retention period: about 1700 in whole days, 0 one by one',
    );
  });

  it('leaves a day it cannot drop for the next pass, and still deletes the records no drop takes', async () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    jest.useFakeTimers({ now });
    const { sut, store, partitions } = setup([Date.parse('2026-01-08T00:00:00Z')]);
    partitions.ensure.mockRejectedValueOnce(new Error('canceling statement due to lock timeout'));
    partitions.drop.mockRejectedValueOnce(new Error('canceling statement due to lock timeout'));
    await sut.expire(now + 2 * DAY_MS);
    expect(logs.warn).toHaveBeenCalledWith('Could not make a partition: canceling statement due to lock timeout');
    expect(logs.warn).toHaveBeenCalledWith(
      'Could not drop the partitions of 2026-01-08: canceling statement due to lock timeout',
    );
    expect(store.deleteFinishedBefore).toHaveBeenCalledTimes(1);
  });

  it('deletes each batch in its own transaction, after waiting its turn for the retention lock', async () => {
    const { sut, store, transactions } = setup();
    store.deleteFinishedBefore.mockResolvedValueOnce(BATCH).mockResolvedValueOnce(1);
    await sut.expire();
    // Three days of partitions made, then two batches.
    expect(transactions).toEqual(Array(5).fill(['SELECT pg_advisory_xact_lock($1)']));
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
    await sut.onApplicationBootstrap();
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
