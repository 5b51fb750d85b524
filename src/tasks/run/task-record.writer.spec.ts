import { AppConfig } from '../../config/app-config';
import { StoreHealth } from '../store-health';
import { TaskRecordWriter } from './task-record.writer';
import { TaskState } from '../task-state';

/** The writer with its database statement replaced: batches are recorded instead. */
class RecordingWriter extends TaskRecordWriter {
  readonly batches: Record<string, unknown>[][] = [];
  readonly query = jest.fn(async (_sql: string, [json]: unknown[]) => {
    this.batches.push(JSON.parse(json as string));
    if (this.failures > 0) {
      this.failures--;
      throw this.error;
    }
  });

  constructor(
    private failures = 0,
    private readonly error: Error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    }),
    readonly stores = new StoreHealth(),
  ) {
    super(AppConfig.fromEnv({}), stores);
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

  /** Holds every statement until released, so batches stay in flight. */
  function holdCommits(sut: RecordingWriter): (() => void)[] {
    const releases: (() => void)[] = [];
    sut.query.mockImplementation(async (_sql, [json]) => {
      sut.batches.push(JSON.parse(json as string));
      await new Promise<void>((resolve) => releases.push(resolve));
    });
    return releases;
  }
  const turn = () => new Promise((r) => setImmediate(r));

  it('starts the next batch while one commits, up to two at once', async () => {
    const sut = new RecordingWriter();
    const releases = holdCommits(sut);
    const writes: Promise<void>[] = [];
    for (const id of ['a', 'b', 'c']) {
      writes.push(sut.write(id, { state: TaskState.SUCCESS }, true));
      await turn();
    }
    expect(sut.batches.map((b) => b.map((p) => p.id))).toEqual([['a'], ['b']]);
    releases[0]();
    await turn();
    await turn();
    expect(sut.batches.map((b) => b.map((p) => p.id))).toEqual([['a'], ['b'], ['c']]);
    releases.slice(1).forEach((release) => release());
    await Promise.all(writes);
  });

  it("holds a task's later patch until the batch with its earlier one has committed", async () => {
    const sut = new RecordingWriter();
    const releases = holdCommits(sut);
    const started = sut.write('a', { state: TaskState.STARTED }, true);
    await turn();
    const finished = sut.write('a', { state: TaskState.SUCCESS }, true);
    const other = sut.write('b', { state: TaskState.SUCCESS }, true);
    await turn();
    await turn();
    // b goes alongside; a's SUCCESS must not commit concurrently with its STARTED.
    expect(sut.batches).toEqual([[{ id: 'a', state: 'STARTED' }], [{ id: 'b', state: 'SUCCESS' }]]);
    releases[1]();
    await other;
    await turn();
    expect(sut.batches).toHaveLength(2);
    releases[0]();
    await started;
    await turn();
    await turn();
    expect(sut.batches[2]).toEqual([{ id: 'a', state: 'SUCCESS' }]);
    releases[2]();
    await finished;
  });

  it('retries a batch through a database outage, reports the outage once and the recovery once', async () => {
    const sut = new RecordingWriter(4);
    const changes: boolean[] = [];
    sut.stores.onChange((_store, up) => changes.push(up));
    await sut.write('a', { state: TaskState.SUCCESS }, true);
    expect(sut.query).toHaveBeenCalledTimes(5);
    expect(changes).toEqual([false, true]);
    expect(sut.stores.isDown('database')).toBe(false);
  });

  it('rejects durable writes when the statement itself fails, so the job is not completed', async () => {
    const sut = new RecordingWriter(1, new Error('column "x" does not exist'));
    await expect(sut.write('a', { state: TaskState.SUCCESS }, true)).rejects.toThrow('does not exist');
    expect(sut.query).toHaveBeenCalledTimes(1);
  });

  it('flushes intermediate states on shutdown', async () => {
    const sut = new RecordingWriter();
    void sut.write('a', { progress: 50 }, false);
    await sut.onApplicationShutdown();
    expect(sut.batches).toEqual([[{ id: 'a', progress: 50 }]]);
  });
});
