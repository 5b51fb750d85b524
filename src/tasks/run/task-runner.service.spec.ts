import { Job } from 'bullmq';
import { IsInt } from 'class-validator';
import { setTimeout as sleep } from 'node:timers/promises';
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

  it('abandons an abortable handler that ignores its signal at the timeout', async () => {
    const { sut, job, writes } = setup({ timeoutMs: 30 }, () => sleep(2_000));
    const started = Date.now();
    await expect(sut.run(job({ n: 1 }), 'default')).rejects.toBeInstanceOf(TaskTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(writes[1][1]).toMatchObject({ state: 'RETRY', error: { type: 'TaskTimeoutError' } });
  });

  it('waits for a non-abortable handler and records how it really ended', async () => {
    const { sut, job, states } = setup({ timeoutMs: 30, abortable: false }, async (args, ctx) => {
      await sleep(150); // a commit that must not be abandoned
      expect(ctx.signal.aborted).toBe(true);
      return { committed: args.n };
    });
    await expect(sut.run(job({ n: 7 }), 'default')).resolves.toEqual({ committed: 7 });
    expect(states()).toEqual(['STARTED', 'SUCCESS']);
  });

  it('classifies what a non-abortable handler throws after its signal fired as the timeout', async () => {
    const { sut, job, writes } = setup({ timeoutMs: 30, abortable: false }, async (_args, ctx) => {
      await sleep(100);
      ctx.signal.throwIfAborted();
    });
    await expect(sut.run(job({ n: 1 }), 'default')).rejects.toBeInstanceOf(TaskTimeoutError);
    expect(writes[1][1]).toMatchObject({ error: { type: 'TaskTimeoutError' } });
  });
});
