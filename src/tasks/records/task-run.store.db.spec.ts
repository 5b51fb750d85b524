import { randomUUID } from 'node:crypto';
import { newTaskRun } from '../../../test/support/new-task-run';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { TaskState } from '../task-state';
import { TaskRun } from './entities/task-run.entity';
import { TaskRunStore } from './task-run.store';
import { firstIdAt } from './task-run-partitions';

const ERROR = { type: 'TaskRevokedError', message: 'The task was cancelled' };

/** The store's statements on a real PostgreSQL: which rows each one takes and which it leaves. */
describe('TaskRunStore on PostgreSQL', () => {
  const db = useSpecDatabase([TaskRun]);
  let sut: TaskRunStore;

  beforeEach(async () => {
    await db.current.empty('task_runs');
    sut = new TaskRunStore(db.current.dataSource);
  });

  const newRun = newTaskRun;

  async function seed(...runs: TaskRun[]): Promise<string[]> {
    await sut.insert(runs);
    return runs.map((r) => r.id);
  }

  const rows = async (): Promise<{ id: string; state: string; enqueued: boolean }[]> =>
    db.current.dataSource.query(`SELECT id, state, enqueued_at IS NOT NULL AS enqueued FROM task_runs`);
  const stateOf = async (id: string) => (await rows()).find((r) => r.id === id)?.state;

  it('inserts a batch in submission order and skips a record whose idempotency key is taken', async () => {
    const first = newRun({ idempotencyKey: 'k' });
    await sut.insert([first]);
    const batch = [newRun(), newRun({ idempotencyKey: 'k' }), newRun()];
    const written = await sut.insert(batch);
    expect(written).toEqual([batch[0], batch[2]]);
    await expect(sut.findByIdempotencyKey(null, 'k')).resolves.toMatchObject({ id: first.id });
    // One millisecond for the batch, a microsecond apart: created_at keeps the order.
    const order: { id: string }[] = await db.current.dataSource.query(
      `SELECT id FROM task_runs WHERE id = ANY($1::uuid[]) ORDER BY created_at`,
      [written.map((r) => r.id)],
    );
    expect(order.map((r) => r.id)).toEqual([batch[0].id, batch[2].id]);
  });

  it('clears the queued mark of pending records only: a job that started keeps it', async () => {
    const [pending, started] = await seed(
      newRun({ enqueuedAt: new Date() }),
      newRun({ enqueuedAt: new Date(), state: TaskState.STARTED }),
    );
    await sut.clearQueuedMark([pending, started]);
    expect(Object.fromEntries((await rows()).map((r) => [r.id, r.enqueued]))).toEqual({
      [pending]: false,
      [started]: true,
    });
  });

  it('hands the outbox unqueued pending records old enough, oldest first, skipping rows another transaction holds', async () => {
    const old = new Date(Date.now() - 60_000);
    const [a, b, held] = await seed(
      newRun({ createdAt: old }),
      newRun({ createdAt: new Date(old.getTime() + 1) }),
      newRun({ createdAt: new Date(old.getTime() + 2) }),
    );
    await seed(
      newRun({ createdAt: old, enqueuedAt: new Date() }),
      newRun({ createdAt: old, state: TaskState.STARTED }),
      newRun(),
    );
    const cutoff = new Date(Date.now() - 1000);
    const holder = db.current.dataSource.createQueryRunner();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT id FROM task_runs WHERE id = $1 FOR UPDATE`, [held]);
      const batch = await db.current.dataSource.transaction((m) => sut.lockOutboxBatch(m, cutoff, 10));
      expect(batch.map((r) => r.id)).toEqual([a, b]);
      await expect(sut.outboxBacklog()).resolves.toMatchObject({ pending: 4 });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    await db.current.dataSource.transaction((m) => sut.markQueued([a, b], m));
    await expect(sut.outboxBacklog()).resolves.toMatchObject({ pending: 2 });
  });

  it('gives the reconciler open queued records untouched since the cutoff, and touches only open ones', async () => {
    const stale = new Date(Date.now() - 60_000);
    const [lost, retrying] = await seed(
      newRun({ updatedAt: stale, enqueuedAt: stale, state: TaskState.STARTED }),
      newRun({ updatedAt: new Date(stale.getTime() + 1), enqueuedAt: stale, state: TaskState.RETRY }),
    );
    const [finished] = await seed(
      newRun({ updatedAt: stale, enqueuedAt: stale, state: TaskState.SUCCESS }),
      newRun({ updatedAt: stale, enqueuedAt: null }),
      newRun({ enqueuedAt: new Date() }),
    );
    const cutoff = new Date(Date.now() - 1000);
    const found = await db.current.dataSource.transaction((m) => sut.findStaleOpen(m, cutoff, 10));
    expect(found.map((r) => r.id)).toEqual([lost, retrying]);
    await db.current.dataSource.transaction((m) => sut.touchOpen(m, [lost, finished]));
    const again = await db.current.dataSource.transaction((m) => sut.findStaleOpen(m, cutoff, 10));
    expect(again.map((r) => r.id)).toEqual([retrying]);
    expect(await db.current.dataSource.transaction((m) => sut.stateOf(m, finished))).toBe(TaskState.SUCCESS);
  });

  it('revokes open records only and says which', async () => {
    const [open, done] = await seed(newRun({ state: TaskState.STARTED }), newRun({ state: TaskState.FAILURE }));
    await expect(sut.markRevoked([open, done], ERROR)).resolves.toEqual([open]);
    expect(await stateOf(open)).toBe(TaskState.REVOKED);
    expect(await stateOf(done)).toBe(TaskState.FAILURE);
    await expect(sut.findById(open)).resolves.toMatchObject({ error: ERROR });
  });

  it('resets a finished record for a retry', async () => {
    const [id] = await seed(newRun({ state: TaskState.FAILURE, attempts: 3 }));
    await sut.resetForRetry(id, new Date());
    await expect(sut.findById(id)).resolves.toMatchObject({ state: TaskState.PENDING, attempts: 0, result: null });
  });

  it('deletes finished records past the cutoff, at most a batch at a time, and no open ones', async () => {
    const states = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED, TaskState.STARTED, TaskState.SUCCESS];
    const [, , , open, recent] = await seed(...states.map((state) => newRun({ state })));
    // Submits never write finished_at: a day ago for all but the recent one.
    await db.current.dataSource.query(
      `UPDATE task_runs SET finished_at = CASE WHEN id = $1 THEN now() ELSE now() - interval '1 day' END`,
      [recent],
    );
    const cutoff = new Date(Date.now() - 3_600_000);
    const deleteBatch = () =>
      db.current.dataSource.transaction((m) => sut.deleteFinishedBefore(m, cutoff, firstIdAt(Date.now()), 2));
    await expect(deleteBatch()).resolves.toBe(2);
    await expect(deleteBatch()).resolves.toBe(1);
    await expect(deleteBatch()).resolves.toBe(0);
    expect((await rows()).map((r) => r.id).sort()).toEqual([open, recent].sort());
  });

  it('finds which ids have records, and which came through an ingress by their request id', async () => {
    const [celery, other] = await seed(newRun({ requestId: 'celery-1' }), newRun({ requestId: 'req-2' }));
    const unknown = randomUUID();
    expect([...(await sut.knownRuns([celery, other, unknown])).keys()].sort()).toEqual([celery, other].sort());
    await expect(sut.idsWithRequestPrefix([celery, other, unknown], 'celery')).resolves.toEqual(new Set([celery]));
    await expect(sut.find(unknown)).resolves.toBeNull();
  });

  it('pages through the finished records of an ingress by finish time and id, a shared finish time included', async () => {
    const at = new Date(Date.now() - 60_000);
    const later = new Date(at.getTime() + 1000);
    const batch = [1, 2, 3].map(() =>
      newRun({ state: TaskState.SUCCESS, finishedAt: at, requestId: `celery-${randomUUID()}` }),
    );
    const last = newRun({ state: TaskState.FAILURE, finishedAt: later, requestId: 'celery-x' });
    const runs = [...batch, last, newRun({ state: TaskState.SUCCESS, finishedAt: at, requestId: 'rest-1' }), newRun()];
    await seed(...runs);
    // The insert writes new records; their finish comes later, as the worker's update.
    for (const run of runs.filter((r) => r.finishedAt))
      await db.current.dataSource.query(`UPDATE task_runs SET finished_at = $2 WHERE id = $1`, [
        run.id,
        run.finishedAt,
      ]);
    const start = { finishedAt: new Date(at.getTime() - 1), id: '00000000-0000-0000-0000-000000000000' };
    const first = await sut.finishedWithRequestPrefix('celery', start, new Date(), 2);
    const sorted = batch.map((r) => r.id).sort();
    expect(first.map((r) => r.id)).toEqual(sorted.slice(0, 2));
    const second = await sut.finishedWithRequestPrefix('celery', { finishedAt: at, id: sorted[1] }, new Date(), 2);
    expect(second.map((r) => [r.id, r.state])).toEqual([
      [sorted[2], TaskState.SUCCESS],
      [last.id, TaskState.FAILURE],
    ]);
    await expect(
      sut.finishedWithRequestPrefix('celery', start, new Date(later.getTime() - 1), 10),
    ).resolves.toHaveLength(3);
  });
});
