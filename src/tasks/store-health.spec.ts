import { Logger } from '@nestjs/common';
import { StoreHealth } from './store-health';

describe('StoreHealth', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('logs an outage once and the recovery once, however many failures come in between', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation();
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation();
    const sut = new StoreHealth();
    for (let i = 0; i < 50; i++) sut.markDown('database', new Error('connect ECONNREFUSED'));
    expect(sut.isDown('database')).toBe(true);
    expect(sut.isDown('transport')).toBe(false);
    for (let i = 0; i < 50; i++) sut.markUp('database');
    expect(error).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledTimes(1);
    expect(sut.isDown('database')).toBe(false);
  });

  it('probes a store that is down every second until it answers, then reports it back up', async () => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'error').mockImplementation();
    jest.spyOn(Logger.prototype, 'log').mockImplementation();
    const sut = new StoreHealth();
    let answers = false;
    const probe = jest.fn(async () => {
      if (!answers) throw new Error('down');
    });
    sut.setProbe('transport', probe);
    const changes: boolean[] = [];
    sut.onChange((_store, up) => changes.push(up));
    sut.markDown('transport', new Error('ECONNREFUSED'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(probe).toHaveBeenCalledTimes(1);
    expect(sut.isDown('transport')).toBe(true);
    answers = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(probe).toHaveBeenCalledTimes(2);
    expect(sut.isDown('transport')).toBe(false);
    expect(changes).toEqual([false, true]);
    // Up again: no more probing.
    await jest.advanceTimersByTimeAsync(5_000);
    expect(probe).toHaveBeenCalledTimes(2);
    sut.onApplicationShutdown();
  });
});
