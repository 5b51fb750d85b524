import { AppConfig } from '../config/app-config';
import { TaskRecordWriter } from './task-record.writer';
import { TaskState } from './task-state';

/** The writer with its database statement replaced: batches are recorded instead. */
class RecordingWriter extends TaskRecordWriter {
  readonly batches: Record<string, unknown>[][] = [];
  readonly query = jest.fn(async (_sql: string, [json]: unknown[]) => {
    this.batches.push(JSON.parse(json as string));
    if (this.fail) throw new Error('database is down');
  });

  constructor(private readonly fail = false) {
    super(AppConfig.fromEnv({}));
  }

  protected execute(sql: string, params: unknown[]): Promise<void> {
    return this.query(sql, params);
  }
}

describe('TaskRecordWriter', () => {
  it('merges the changes of one task and commits many tasks in one statement', async () => {
    const sut = new RecordingWriter();
    void sut.write('a', { state: TaskState.STARTED, attempts: 1, workerId: 'w1' }, false);
    const durable = [
      sut.write('a', { state: TaskState.SUCCESS, result: { ok: true } }, true),
      sut.write('b', { state: TaskState.FAILURE, error: { type: 'Error', message: 'x' } }, true),
    ];
    await Promise.all(durable);
    expect(sut.batches).toEqual([
      [
        { id: 'a', state: 'SUCCESS', attempts: 1, workerId: 'w1', result: { ok: true } },
        { id: 'b', state: 'FAILURE', error: { type: 'Error', message: 'x' } },
      ],
    ]);
  });

  it('resolves a durable write only after its batch is committed', async () => {
    const sut = new RecordingWriter();
    let release!: () => void;
    sut.query.mockImplementationOnce(() => new Promise<void>((r) => (release = r)));
    let done = false;
    const write = sut.write('a', { state: TaskState.SUCCESS }, true).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release();
    await write;
    expect(done).toBe(true);
  });

  it('rejects durable writes when the batch fails, so the job is not completed', async () => {
    const sut = new RecordingWriter(true);
    await expect(sut.write('a', { state: TaskState.SUCCESS }, true)).rejects.toThrow('database is down');
  });

  it('flushes intermediate states on shutdown', async () => {
    const sut = new RecordingWriter();
    void sut.write('a', { progress: 50 }, false);
    await sut.onApplicationShutdown();
    expect(sut.batches).toEqual([[{ id: 'a', progress: 50 }]]);
  });
});
