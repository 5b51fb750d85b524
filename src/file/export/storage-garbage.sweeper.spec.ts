import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { FileStorage } from '../storage/file-storage';
import { StorageGarbageSweeper } from './storage-garbage.sweeper';
import { quietLogger } from '../../../test/support/quiet-logger';

const BATCH = 200;
const INTERVAL_MS = 30_000;

function setup(listed: number) {
  let keys = Array.from({ length: listed }, (_, i) => `exports/${i}`);
  const manager = {
    query: jest.fn(async (sql: string, params?: unknown[]) => {
      if (sql.startsWith('SELECT')) return keys.slice(0, BATCH).map((storage_key) => ({ storage_key }));
      const gone = new Set(params![0] as string[]);
      keys = keys.filter((key) => !gone.has(key));
      return [];
    }),
  } as unknown as EntityManager;
  const dataSource = {
    transaction: jest.fn((work: (m: EntityManager) => Promise<unknown>) => work(manager)),
  } as unknown as DataSource;
  const storage = { delete: jest.fn(async (_key: string) => undefined) };
  const sut = new StorageGarbageSweeper(
    dataSource,
    storage as unknown as FileStorage,
    AppConfig.fromEnv({ RECONCILE_INTERVAL_MS: String(INTERVAL_MS) }),
  );
  return { sut, storage, dataSource, remaining: () => keys };
}

describe('StorageGarbageSweeper', () => {
  const logs = quietLogger();

  it('deletes the bytes of every listed key, batch after batch, then the listing', async () => {
    const { sut, storage, remaining } = setup(BATCH + 5);
    await expect(sut.sweep()).resolves.toBe(BATCH + 5);
    expect(storage.delete).toHaveBeenCalledTimes(BATCH + 5);
    expect(remaining()).toEqual([]);
  });

  it('keeps the listing of bytes it could not delete, logs the failure once and answers 0', async () => {
    const { sut, storage, remaining } = setup(3);
    storage.delete.mockRejectedValueOnce(new Error('storage unavailable'));
    await expect(sut.sweep()).resolves.toBe(0);
    expect(remaining()).toHaveLength(3);
    expect(logs.warn).toHaveBeenCalledTimes(1);
    expect(logs.warn).toHaveBeenCalledWith('Storage garbage sweep failed: storage unavailable');
  });

  it('sweeps on the reconcile interval until shutdown', async () => {
    jest.useFakeTimers();
    const { sut, storage, dataSource } = setup(1);
    sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(storage.delete).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(dataSource.transaction).toHaveBeenCalledTimes(2);
    await sut.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(dataSource.transaction).toHaveBeenCalledTimes(2);
  });
});
