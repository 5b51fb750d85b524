import { DataSource } from 'typeorm';
import { TaskRecordWriter } from './task-record.writer';
import { TaskState } from './task-state';

function fakeDataSource(fail = false) {
  const batches: Record<string, unknown>[][] = [];
  const dataSource = {
    query: jest.fn(async (_sql: string, [json]: [string]) => {
      batches.push(JSON.parse(json));
      if (fail) throw new Error('database is down');
      return [];
    }),
  };
  return { dataSource: dataSource as unknown as DataSource, batches };
}

describe('TaskRecordWriter', () => {
  it('merges the changes of one task and commits many tasks in one statement', async () => {
    const { dataSource, batches } = fakeDataSource();
    const sut = new TaskRecordWriter(dataSource);
    void sut.write('a', { state: TaskState.STARTED, attempts: 1, workerId: 'w1' }, false);
    const durable = [
      sut.write('a', { state: TaskState.SUCCESS, result: { ok: true } }, true),
      sut.write('b', { state: TaskState.FAILURE, error: { type: 'Error', message: 'x' } }, true),
    ];
    await Promise.all(durable);
    expect(batches).toEqual([
      [
        { id: 'a', state: 'SUCCESS', attempts: 1, workerId: 'w1', result: { ok: true } },
        { id: 'b', state: 'FAILURE', error: { type: 'Error', message: 'x' } },
      ],
    ]);
  });

  it('resolves a durable write only after its batch is committed', async () => {
    const { dataSource } = fakeDataSource();
    let release!: () => void;
    (dataSource.query as jest.Mock).mockImplementationOnce(() => new Promise<void>((r) => (release = r)));
    const sut = new TaskRecordWriter(dataSource);
    let done = false;
    const write = sut.write('a', { state: TaskState.SUCCESS }, true).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release();
    await write;
    expect(done).toBe(true);
  });

  it('rejects durable writes when the batch fails, so the job is not completed', async () => {
    const { dataSource } = fakeDataSource(true);
    const sut = new TaskRecordWriter(dataSource);
    await expect(sut.write('a', { state: TaskState.SUCCESS }, true)).rejects.toThrow('database is down');
  });

  it('flushes intermediate states on shutdown', async () => {
    const { dataSource, batches } = fakeDataSource();
    const sut = new TaskRecordWriter(dataSource);
    void sut.write('a', { progress: 50 }, false);
    await sut.onApplicationShutdown();
    expect(batches).toEqual([[{ id: 'a', progress: 50 }]]);
  });
});
