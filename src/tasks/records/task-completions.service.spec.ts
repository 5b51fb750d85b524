import { AppConfig } from '../../config/app-config';
import { PgNotifications } from './pg-notifications.service';
import { FINISHED_CHANNEL, TaskCompletions } from './task-completions.service';

/** Long-poll wake-ups: a NOTIFY names the finished ids; a drain releases everyone. */
describe('TaskCompletions', () => {
  const LONG = 60_000;
  let notify: (payload: string) => void;

  async function completions(): Promise<TaskCompletions> {
    const notifications = {
      subscribe: jest.fn(async (channel: string, handler: (payload: string) => void) => {
        if (channel === FINISHED_CHANNEL) notify = handler;
      }),
    } as unknown as PgNotifications;
    const sut = new TaskCompletions({ runsApi: true } as AppConfig, notifications);
    await sut.onModuleInit();
    return sut;
  }

  /** Whether `done` has resolved once pending callbacks and due timers (a drain's 0 ms one) have run. */
  async function settled(done: Promise<void>): Promise<boolean> {
    let resolved = false;
    void done.then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    return resolved;
  }

  it('wakes the waiters of the ids a NOTIFY names, and only those', async () => {
    const sut = await completions();
    const a = sut.waitFor('a', LONG);
    const alsoA = sut.waitFor('a', LONG);
    const b = sut.waitFor('b', LONG);
    notify('x,a');
    expect(await settled(a.done)).toBe(true);
    expect(await settled(alsoA.done)).toBe(true);
    expect(await settled(b.done)).toBe(false);
    b.cancel();
  });

  it('releases every waiter, and every later one at once, when the process drains', async () => {
    const sut = await completions();
    const before = sut.waitFor('a', LONG);
    sut.releaseAll();
    const after = sut.waitFor('b', LONG);
    expect(await settled(before.done)).toBe(true);
    expect(await settled(after.done)).toBe(true);
  });
});
