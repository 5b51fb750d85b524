import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { AppConfig } from '../../config/app-config';
import { StoreHealth } from '../store-health';
import { TaskRecordWriter } from './task-record.writer';
import { TaskState } from '../task-state';

/** The record writer's batch statement on a real PostgreSQL: which late writes it refuses. */
describe('TaskRecordWriter on PostgreSQL', () => {
  const db = useSpecDatabase();
  let sut: TaskRecordWriter;

  beforeEach(() => {
    sut = new TaskRecordWriter(AppConfig.fromEnv({ DATABASE_URL: db.current.url }), new StoreHealth());
  });
  afterEach(() => sut.onApplicationShutdown());

  async function recordIn(state: TaskState): Promise<string> {
    const id = randomUUID();
    await db.current.dataSource.query(
      `INSERT INTO task_runs (id, name, queue, state, max_attempts, run_at, created_at, updated_at)
       VALUES ($1, 'tasks.system.noop', 'default', $2, 3, now(), now(), now())`,
      [id, state],
    );
    return id;
  }

  const stateOf = async (id: string) =>
    (await db.current.dataSource.query(`SELECT state FROM task_runs WHERE id = $1`, [id]))[0].state;

  it('never turns a finished task open again: a stale RETRY after SUCCESS is dropped', async () => {
    const id = await recordIn(TaskState.STARTED);
    await sut.write(id, { state: TaskState.SUCCESS, result: { ok: true }, finishedAt: new Date() }, true);
    await sut.write(id, { state: TaskState.RETRY, finishedAt: null, runAt: new Date() }, true);
    await sut.write(id, { state: TaskState.STARTED }, true);
    expect(await stateOf(id)).toBe(TaskState.SUCCESS);
  });

  it('keeps the first outcome of a job that ran twice (its lock or completion lost in a Redis failover)', async () => {
    const id = await recordIn(TaskState.STARTED);
    await sut.write(id, { state: TaskState.SUCCESS, result: { run: 1 }, finishedAt: new Date() }, true);
    await sut.write(id, { state: TaskState.FAILURE, error: { type: 'Error', message: 'second run' } }, true);
    await sut.write(id, { state: TaskState.SUCCESS, result: { run: 2 }, finishedAt: new Date() }, true);
    const [row] = await db.current.dataSource.query(`SELECT state, result FROM task_runs WHERE id = $1`, [id]);
    expect(row).toEqual({ state: TaskState.SUCCESS, result: { run: 1 } });
  });

  it('keeps a FAILURE final against open writes, and a REVOKED record against any but REVOKED', async () => {
    const failed = await recordIn(TaskState.FAILURE);
    await sut.write(failed, { state: TaskState.RETRY }, true);
    expect(await stateOf(failed)).toBe(TaskState.FAILURE);
    const revoked = await recordIn(TaskState.REVOKED);
    await sut.write(revoked, { state: TaskState.SUCCESS }, true);
    expect(await stateOf(revoked)).toBe(TaskState.REVOKED);
  });

  it('moves an open task through its states to its final one', async () => {
    const id = await recordIn(TaskState.PENDING);
    await sut.write(id, { state: TaskState.STARTED, attempts: 1 }, true);
    expect(await stateOf(id)).toBe(TaskState.STARTED);
    await sut.write(id, { state: TaskState.RETRY }, true);
    await sut.write(id, { state: TaskState.FAILURE, finishedAt: new Date() }, true);
    expect(await stateOf(id)).toBe(TaskState.FAILURE);
  });

  it('lets two workers finish tasks of one name at once without deadlocking on their rollup rows', async () => {
    // Each worker process has its own writer; their batches upsert the same rollup rows (one per
    // runtime bucket), which the triggers lock in key order.
    const other = new TaskRecordWriter(AppConfig.fromEnv({ DATABASE_URL: db.current.url }), new StoreHealth());
    try {
      const ids = await Promise.all(Array.from({ length: 300 }, () => recordIn(TaskState.STARTED)));
      const writes: Promise<void>[] = [];
      for (let i = 0; i < ids.length; i += 20) {
        ids.slice(i, i + 20).forEach((id, j) => {
          const writer = j % 2 === 0 ? sut : other;
          writes.push(
            writer.write(id, { state: TaskState.SUCCESS, finishedAt: new Date(), runtimeMs: (i + j) * 7 }, true),
          );
        });
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(writes);
      const [{ count }] = await db.current.dataSource.query(
        `SELECT count(*)::int AS count FROM task_runs WHERE state = 'SUCCESS' AND id = ANY($1)`,
        [ids],
      );
      expect(count).toBe(ids.length);
    } finally {
      await other.onApplicationShutdown();
    }
  });
});
