import { Job } from 'bullmq';
import { IsInt } from 'class-validator';
import { ActiveTasks, TaskTimeoutError } from './active-tasks.service';
import { TaskDefinition } from '../task-definition';
import { TaskEvents } from '../task-events';
import { TaskRecordWriter } from './task-record.writer';
import { TaskRegistry } from '../task-registry.service';
import { TaskRunner } from './task-runner.service';
import { StoreHealth } from '../store-health';

class Args {
  @IsInt()
  n: number;
}

function setup(definition: Partial<TaskDefinition>, handler: (args: Args, ctx: any) => Promise<unknown>) {
  const writes: [string, Record<string, unknown>][] = [];
  const writer = {
    write: jest.fn(async (id: string, patch: Record<string, unknown>) => void writes.push([id, patch])),
  } as unknown as TaskRecordWriter;
  const full = {
    name: 'tasks.test.t',
    description: '',
    payload: Args,
    retry: { attempts: 2, backoffMs: 1 },
    timeoutMs: 50,
    ...definition,
  } as TaskDefinition;
  const registry = { get: () => ({ definition: full, queue: 'default', handler }) } as unknown as TaskRegistry;
  const sut = new TaskRunner(
    registry,
    writer,
    new ActiveTasks({} as never, {} as never),
    new TaskEvents(),
    new StoreHealth(),
  );
  const job = (data: unknown, attemptsMade = 0) =>
    ({
      id: 'job-1',
      name: 'tasks.test.t',
      queueName: 'default',
      data: { args: data, owner: null },
      attemptsMade,
      opts: { attempts: 2 },
      updateProgress: jest.fn(),
    }) as unknown as Job;
  const states = () => writes.map(([, patch]) => patch.state);
  return { sut, job, writes, states };
}

describe('TaskRunner', () => {
  it('records STARTED then SUCCESS with the result', async () => {
    const { sut, job, states, writes } = setup({}, async (args) => ({ doubled: args.n * 2 }));
    await expect(sut.run(job({ n: 2 }), 'default')).resolves.toEqual({ doubled: 4 });
    expect(states()).toEqual(['STARTED', 'SUCCESS']);
    expect(writes[1][1]).toMatchObject({ result: { doubled: 4 }, error: null });
  });

  it('fails an invalid payload permanently without calling the handler', async () => {
    const handler = jest.fn();
    const { sut, job, states } = setup({}, handler);
    await expect(sut.run(job({ n: 'x' }), 'default')).rejects.toMatchObject({ name: 'UnrecoverableError' });
    expect(handler).not.toHaveBeenCalled();
    expect(states()).toEqual(['STARTED', 'FAILURE']);
  });

  it('records RETRY before the last attempt and FAILURE on it', async () => {
    const { sut, job, states } = setup({}, async () => {
      throw new Error('flaky');
    });
    await expect(sut.run(job({ n: 1 }, 0), 'default')).rejects.toThrow('flaky');
    await expect(sut.run(job({ n: 1 }, 1), 'default')).rejects.toThrow('flaky');
    expect(states()).toEqual(['STARTED', 'RETRY', 'STARTED', 'FAILURE']);
  });

  describe('at the timeout (fake timers: the clock moves only when the spec says)', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    /** Runs the job and reports how it ended so far: 'running' until the run settles. */
    const track = (run: Promise<unknown>) => {
      const outcome: { settled: 'running' | 'resolved' | 'rejected'; value?: unknown } = { settled: 'running' };
      run.then(
        (value) => Object.assign(outcome, { settled: 'resolved', value }),
        (value) => Object.assign(outcome, { settled: 'rejected', value }),
      );
      return outcome;
    };

    it('abandons an abortable handler that ignores its signal', async () => {
      // A handler that never settles: only the timeout can end this run.
      const { sut, job, writes } = setup({ timeoutMs: 30 }, () => new Promise(() => undefined));
      const outcome = track(sut.run(job({ n: 1 }), 'default'));
      await jest.advanceTimersByTimeAsync(29);
      expect(outcome.settled).toBe('running');
      await jest.advanceTimersByTimeAsync(1);
      expect(outcome).toEqual({ settled: 'rejected', value: expect.any(TaskTimeoutError) });
      expect(writes[1][1]).toMatchObject({ state: 'RETRY', error: { type: 'TaskTimeoutError' } });
    });

    it('waits for a non-abortable handler and records how it really ended', async () => {
      // What the handler saw is returned, not asserted inside it: a failed expect there would
      // be reported as the timeout, since the runner blames anything thrown after its signal fired.
      const { sut, job, states } = setup({ timeoutMs: 30, abortable: false }, async (args, ctx) => {
        await new Promise((r) => setTimeout(r, 150)); // a commit that must not be abandoned
        return { committed: args.n, signalAbortedAtCommit: ctx.signal.aborted };
      });
      const outcome = track(sut.run(job({ n: 7 }), 'default'));
      await jest.advanceTimersByTimeAsync(100);
      expect(outcome.settled).toBe('running');
      await jest.advanceTimersByTimeAsync(50);
      expect(outcome).toEqual({ settled: 'resolved', value: { committed: 7, signalAbortedAtCommit: true } });
      expect(states()).toEqual(['STARTED', 'SUCCESS']);
    });

    it('classifies what a non-abortable handler throws after its signal fired as the timeout', async () => {
      const { sut, job, writes } = setup({ timeoutMs: 30, abortable: false }, async (_args, ctx) => {
        await new Promise((r) => setTimeout(r, 100));
        ctx.signal.throwIfAborted();
      });
      const outcome = track(sut.run(job({ n: 1 }), 'default'));
      await jest.advanceTimersByTimeAsync(100);
      expect(outcome).toEqual({ settled: 'rejected', value: expect.any(TaskTimeoutError) });
      expect(writes[1][1]).toMatchObject({ error: { type: 'TaskTimeoutError' } });
    });
  });
});
