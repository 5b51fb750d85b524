import { Logger } from '@nestjs/common';
import { SingletonLoop, SingletonLoopOptions } from './singleton-loop';
import { lockingDataSource } from '../../test/support/locking-data-source';

/** A pass the spec finishes by hand. */
function manualPass() {
  const calls: { resolve(value: number): void; reject(error: Error): void }[] = [];
  const pass = jest.fn(() => new Promise<number>((resolve, reject) => calls.push({ resolve, reject })));
  return { pass, calls };
}

describe('SingletonLoop', () => {
  const logger = new Logger('spec');
  let warn: jest.SpyInstance;
  let sut: SingletonLoop<number> | undefined;

  const loop = (options: Partial<SingletonLoopOptions<number>> & Pick<SingletonLoopOptions<number>, 'pass'>) =>
    (sut = new SingletonLoop({ name: 'Spec pass', logger, intervalMs: 1000, ...options }));

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(logger, 'warn').mockImplementation();
  });
  afterEach(async () => {
    await sut?.stop();
    sut = undefined;
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('runs a pass at each interval once started', async () => {
    const pass = jest.fn(async () => 1);
    loop({ pass }).start();
    await jest.advanceTimersByTimeAsync(999);
    expect(pass).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(pass).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(2000);
    expect(pass).toHaveBeenCalledTimes(3);
  });

  it('keeps one pass in flight: ticks and runs during a pass join it instead of starting another', async () => {
    const { pass, calls } = manualPass();
    const sut = loop({ pass });
    sut.start();
    await jest.advanceTimersByTimeAsync(1000);
    const joined = sut.run();
    await jest.advanceTimersByTimeAsync(5000);
    expect(pass).toHaveBeenCalledTimes(1);
    calls[0].resolve(7);
    await expect(joined).resolves.toBe(7);
    await jest.advanceTimersByTimeAsync(1000);
    expect(pass).toHaveBeenCalledTimes(2);
    calls[1].resolve(0);
  });

  it('skips the ticks on which the pass is not due', async () => {
    let due = false;
    const pass = jest.fn(async () => 1);
    loop({ pass, due: () => due }).start();
    await jest.advanceTimersByTimeAsync(3000);
    expect(pass).not.toHaveBeenCalled();
    due = true;
    await jest.advanceTimersByTimeAsync(1000);
    expect(pass).toHaveBeenCalledTimes(1);
  });

  it('logs each failed pass once, resolves it as undefined, and keeps going', async () => {
    const pass = jest.fn(async () => {
      throw new Error('boom');
    });
    const done = jest.fn();
    const sut = loop({ pass, done });
    await expect(sut.run()).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('Spec pass failed: boom');
    await sut.run();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(done).not.toHaveBeenCalled();
  });

  it('leaves a failure its handler took to that handler, and reports results to done', async () => {
    const failed = jest.fn(() => true);
    const done = jest.fn();
    let fail = true;
    const sut = loop({
      pass: async () => {
        if (fail) throw new Error('database down');
        return 3;
      },
      failed,
      done,
    });
    await sut.run();
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ message: 'database down' }));
    expect(warn).not.toHaveBeenCalled();
    fail = false;
    await expect(sut.run()).resolves.toBe(3);
    expect(done).toHaveBeenCalledWith(3);
  });

  it('stops ticking on stop and waits for the running pass to end', async () => {
    const { pass, calls } = manualPass();
    const sut = loop({ pass });
    sut.start();
    await jest.advanceTimersByTimeAsync(1000);
    let stopped = false;
    const stopping = sut.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    calls[0].resolve(1);
    await stopping;
    expect(stopped).toBe(true);
    sut.kick();
    await jest.advanceTimersByTimeAsync(5000);
    expect(pass).toHaveBeenCalledTimes(1);
  });

  it('does not keep the process alive', () => {
    loop({ pass: async () => 1 }).start();
    // An unref'd interval is not counted among the timers that hold the event loop.
    const timer = (sut as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
  });

  describe('exclusive', () => {
    it('runs the step in a transaction holding the advisory lock', async () => {
      const { dataSource, manager, query } = lockingDataSource(false);
      const sut = loop({ pass: async () => 1, lock: { dataSource, key: 42 } });
      await expect(sut.exclusive(async (m) => (m === manager ? 'in the transaction' : 'elsewhere'))).resolves.toBe(
        'in the transaction',
      );
      expect(query).toHaveBeenCalledWith('SELECT pg_try_advisory_xact_lock($1) AS locked', [42]);
    });

    it('returns null without running the step when another replica holds the lock', async () => {
      const { dataSource } = lockingDataSource(true);
      const step = jest.fn(async () => 'ran');
      const sut = loop({ pass: async () => 1, lock: { dataSource, key: 42 } });
      await expect(sut.exclusive(step)).resolves.toBeNull();
      expect(step).not.toHaveBeenCalled();
    });

    it('with wait, queues for the lock instead of giving up', async () => {
      const { dataSource, query } = lockingDataSource(true);
      const sut = loop({ pass: async () => 1, lock: { dataSource, key: 42 } });
      await expect(sut.exclusive(async () => 'ran', { wait: true })).resolves.toBe('ran');
      expect(query).toHaveBeenCalledWith('SELECT pg_advisory_xact_lock($1)', [42]);
    });
  });
});
