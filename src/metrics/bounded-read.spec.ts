import { BoundedRead } from './bounded-read';

describe('BoundedRead', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives the value of a read that answers in time', async () => {
    const sut = new BoundedRead(async () => 42, 800);
    await expect(sut.run()).resolves.toEqual({ ok: true, value: 42 });
  });

  it('gives the error of a read that fails', async () => {
    const sut = new BoundedRead(() => Promise.reject(new Error('Connection is closed')), 800);
    await expect(sut.run()).resolves.toEqual({ ok: false, reason: 'Connection is closed' });
  });

  it('stops waiting at the deadline, and does not start the read again while it hangs', async () => {
    const read = jest.fn(() => new Promise<number>(() => undefined));
    const sut = new BoundedRead(read, 800);
    const first = sut.run();
    await jest.advanceTimersByTimeAsync(800);
    await expect(first).resolves.toEqual({ ok: false, reason: 'no answer within 800 ms' });
    await expect(sut.run()).resolves.toEqual({ ok: false, reason: 'the previous read has not answered yet' });
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('reads again once the late read has settled', async () => {
    let answer!: (value: number) => void;
    const read = jest
      .fn<Promise<number>, []>()
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)))
      .mockResolvedValueOnce(7);
    const sut = new BoundedRead(read, 800);
    const first = sut.run();
    await jest.advanceTimersByTimeAsync(800);
    await first;
    answer(1);
    await Promise.resolve();
    await expect(sut.run()).resolves.toEqual({ ok: true, value: 7 });
  });
});
