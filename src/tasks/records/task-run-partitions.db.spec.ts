import { randomUUID } from 'node:crypto';
import { newTaskRun } from '../../../test/support/new-task-run';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { uuidV7 } from '../../common/uuid-v7';
import { AppConfig } from '../../config/app-config';
import { StoreHealth } from '../store-health';
import { TaskRun } from './entities/task-run.entity';
import { TaskRetention } from './task-retention.service';
import { DAY_MS, dayOf, firstIdAt, TaskRunPartitions } from './task-run-partitions';
import { TaskRunStore } from './task-run.store';

const HOUR = 3_600_000;

/** task_runs' daily partitions on a real PostgreSQL: made ahead, cut around strays, dropped whole. */
describe('TaskRunPartitions on PostgreSQL', () => {
  const db = useSpecDatabase([TaskRun]);
  const sut = new TaskRunPartitions();
  let store: TaskRunStore;
  const today = dayOf(Date.now());

  beforeEach(async () => {
    store = new TaskRunStore(db.current.dataSource);
    await db.current.empty('api_calls', 'task_idempotency_keys', 'task_runs');
    for (const p of await sut.list(db.current.dataSource.manager)) {
      await db.current.dataSource.query(`ALTER TABLE task_runs DETACH PARTITION ${p.name}`);
      await db.current.dataSource.query(`DROP TABLE ${p.name}`);
    }
  });

  const ensure = (day: number) => sut.ensure((work) => db.current.dataSource.transaction(work), day);
  const drop = (day: number, cutoff: Date) => db.current.dataSource.transaction((m) => sut.drop(m, day, cutoff));
  const partitionOf = async (id: string): Promise<string | undefined> =>
    (await db.current.dataSource.query(`SELECT tableoid::regclass::text AS p FROM task_runs WHERE id = $1`, [id]))[0]
      ?.p;
  const ids = async (table: string, column = 'id'): Promise<string[]> =>
    (await db.current.dataSource.query(`SELECT ${column} AS id FROM ${table} ORDER BY 1`)).map((r: any) => r.id);

  const run = (id: string, overrides: Partial<TaskRun> = {}): TaskRun =>
    newTaskRun({ id, maxAttempts: 1, ...overrides });

  async function finish(id: string, at: Date): Promise<void> {
    await db.current.dataSource.query(`UPDATE task_runs SET state = 'SUCCESS', finished_at = $2 WHERE id = $1`, [
      id,
      at,
    ]);
  }

  async function apiCall(taskId: string): Promise<void> {
    await db.current.dataSource.query(
      `INSERT INTO api_calls (task_id, kind, method, url, created_at, updated_at) VALUES ($1, 'call', 'GET', 'http://x/', now(), now())`,
      [taskId],
    );
  }

  it("puts each task in its creation day's partition and a caller's uuid4 in the default one", async () => {
    expect(await ensure(today)).toEqual([`task_runs_${new Date(today).toISOString().slice(0, 10).replace(/-/g, '')}`]);
    expect(await ensure(today)).toEqual([]);
    const ours = uuidV7();
    const callers = randomUUID();
    await store.insert([run(ours), run(callers)]);
    expect(await partitionOf(ours)).toBe((await sut.list(db.current.dataSource.manager))[0].name);
    expect(await partitionOf(callers)).toBe('task_runs_default');
    // The lookup by id, as the API sends it (a parameter, a generic plan), reads one partition.
    const plan = await db.current.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      await m.query(`PREPARE by_id(uuid) AS SELECT * FROM task_runs WHERE id = $1`);
      const rows = await m.query(`EXPLAIN (ANALYZE, COSTS OFF) EXECUTE by_id('${ours}')`);
      await m.query(`DEALLOCATE by_id`);
      return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Subplans Removed: 1/);
    expect(plan).toMatch(/Index Scan using task_runs_\d{8}_pkey/);
  });

  it('keeps an idempotency key unique across partitions', async () => {
    await ensure(today);
    const first = run(uuidV7(), { idempotencyKey: 'k' });
    const second = run(randomUUID(), { idempotencyKey: 'k' });
    const other = run(randomUUID(), { idempotencyKey: 'k', owner: randomUUID() });
    expect(await store.insert([first])).toEqual([first]);
    expect(await store.insert([second, other])).toEqual([other]);
    await expect(store.findByIdempotencyKey(null, 'k')).resolves.toMatchObject({ id: first.id });
    await expect(store.findByIdempotencyKey(null, 'nope')).rejects.toThrow();
  });

  it("cuts a day around a caller's id already in the default partition, which stays there", async () => {
    const tomorrow = today + DAY_MS;
    const stray = `${firstIdAt(tomorrow + 5 * HOUR).slice(0, 14)}4abc-8def-0123456789ab`;
    await store.insert([run(stray)]);
    await apiCall(stray);
    const made = await ensure(tomorrow);
    expect(made).toHaveLength(2);
    expect(await partitionOf(stray)).toBe('task_runs_default');
    const before = uuidV7(tomorrow + HOUR);
    const after = uuidV7(tomorrow + 6 * HOUR);
    await store.insert([run(before), run(after)]);
    expect([await partitionOf(before), await partitionOf(after)]).toEqual(made);

    // Dropping the day takes its partitions and their results, not the stray's.
    for (const id of [stray, before, after]) await finish(id, new Date(tomorrow + 7 * HOUR));
    await apiCall(before);
    expect(await drop(tomorrow, new Date(tomorrow + 2 * DAY_MS))).not.toBeNull();
    expect(await ids('task_runs')).toEqual([stray]);
    expect(await ids('api_calls', 'task_id')).toEqual([stray]);
  });

  it('leaves no exclusion constraint on the default partition, and clears one a failed attempt left', async () => {
    const tomorrow = today + DAY_MS;
    const day = new Date(tomorrow).toISOString().slice(0, 10).replace(/-/g, '');
    // As a pass that died between its steps leaves it (a range that is no longer right).
    await db.current.dataSource.query(
      `ALTER TABLE task_runs_default ADD CONSTRAINT task_runs_default_excludes_${day}_0 CHECK (id IS NOT NULL) NOT VALID`,
    );
    expect(await ensure(tomorrow)).toEqual([`task_runs_${day}`]);
    const left = await db.current.dataSource.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = 'task_runs_default'::regclass AND contype = 'c'`,
    );
    expect(left).toEqual([]);
  });

  it('leaves a day whole when its drop cannot get its lock in time, and drops it on a later pass', async () => {
    const yesterday = today - DAY_MS;
    await ensure(yesterday);
    const id = uuidV7(yesterday + HOUR);
    await store.insert([run(id)]);
    await apiCall(id);
    await finish(id, new Date(yesterday + 2 * HOUR));
    const reader = db.current.dataSource.createQueryRunner();
    await reader.connect();
    await reader.startTransaction();
    await reader.query(`SELECT count(*) FROM task_runs`);
    try {
      await expect(drop(yesterday, new Date(today + HOUR))).rejects.toThrow(/lock timeout/);
    } finally {
      await reader.rollbackTransaction();
      await reader.release();
    }
    // Rolled back whole: the result deleted before the detach is back.
    expect(await ids('api_calls', 'task_id')).toEqual([id]);
    expect(await drop(yesterday, new Date(today + HOUR))).not.toBeNull();
    expect(await ids('api_calls', 'task_id')).toEqual([]);
  });

  it('leaves a day in the default partition when its own records were written there first', async () => {
    const early = uuidV7(today + 2 * DAY_MS + HOUR);
    await store.insert([run(early)]);
    expect(await ensure(today + 2 * DAY_MS)).toEqual([]);
    expect(await partitionOf(early)).toBe('task_runs_default');
  });

  it('drops a day whose records all finished before the cutoff, with their results and keys, and keeps the others', async () => {
    const yesterday = today - DAY_MS;
    await ensure(yesterday);
    await ensure(today);
    const done = uuidV7(yesterday + HOUR);
    const keyed = uuidV7(yesterday + 2 * HOUR);
    const recent = uuidV7(today + HOUR);
    await store.insert([run(done), run(keyed, { idempotencyKey: 'once' }), run(recent)]);
    await apiCall(done);
    await apiCall(recent);
    for (const id of [done, keyed, recent]) await finish(id, new Date(yesterday + 3 * HOUR));

    // Not due while the day is not wholly before the cutoff.
    expect(await drop(yesterday, new Date(today - 1))).toBeNull();
    expect(await drop(yesterday, new Date(today + HOUR))).not.toBeNull();
    expect((await sut.list(db.current.dataSource.manager)).map((p) => p.day)).toEqual([today]);
    expect(await ids('task_runs')).toEqual([recent]);
    expect(await ids('api_calls', 'task_id')).toEqual([recent]);
    expect(await ids('task_idempotency_keys', 'task_id')).toEqual([]);
    // The key is free again, as after a one-by-one delete.
    expect(await store.insert([run(uuidV7(), { idempotencyKey: 'once' })])).toHaveLength(1);
  });

  it('keeps a due day while one of its tasks is open or finished after the cutoff', async () => {
    const yesterday = today - DAY_MS;
    await ensure(yesterday);
    const open = uuidV7(yesterday + HOUR);
    const late = uuidV7(yesterday + 2 * HOUR);
    await store.insert([run(open), run(late)]);
    await finish(late, new Date(today + 2 * HOUR));
    const cutoff = new Date(today + HOUR);
    expect(await drop(yesterday, cutoff)).toBeNull();
    await finish(open, new Date(yesterday + 3 * HOUR));
    expect(await drop(yesterday, cutoff)).toBeNull();
    expect(await drop(yesterday, new Date(today + 3 * HOUR))).not.toBeNull();
    expect(await ids('task_runs')).toEqual([]);
  });

  it('is kept by TaskRetention: replicas make the partitions ahead once between them, and expired days go whole', async () => {
    const retention = () =>
      new TaskRetention(
        AppConfig.fromEnv({ DATABASE_URL: db.current.url, RESULT_EXPIRES_SECONDS: String(DAY_MS / 1000) }),
        db.current.dataSource,
        store,
        new StoreHealth(),
        sut,
      );
    await Promise.all([retention().expire(), retention().expire()]);
    expect((await sut.list(db.current.dataSource.manager)).map((p) => p.day)).toEqual([
      today,
      today + DAY_MS,
      today + 2 * DAY_MS,
    ]);
    const id = uuidV7();
    const callers = randomUUID();
    await store.insert([run(id), run(callers)]);
    await finish(id, new Date());
    await finish(callers, new Date());
    // Three days on, today and tomorrow are wholly past a day's retention: their partitions go
    // (an empty one too), the default partition's record goes one by one, and the partitions
    // ahead are made from then.
    await retention().expire(today + 3 * DAY_MS);
    expect(await ids('task_runs')).toEqual([]);
    expect((await sut.list(db.current.dataSource.manager)).map((p) => p.day)).toEqual([
      today + 2 * DAY_MS,
      today + 3 * DAY_MS,
      today + 4 * DAY_MS,
      today + 5 * DAY_MS,
    ]);
  });

  it('migrates a table with records in place: they stay in the default partition, their keys move', async () => {
    const id = randomUUID();
    await db.current.dataSource.undoLastMigration({ transaction: 'all' });
    await db.current.dataSource.query(
      `INSERT INTO task_runs (id, name, queue, args, state, attempts, max_attempts, run_at, created_at, updated_at, idempotency_key)
       VALUES ($1, 'tasks.system.noop', 'default', '{}', 'PENDING', 0, 1, now(), now(), now(), 'old-key')`,
      [id],
    );
    await apiCall(id);
    await db.current.dataSource.runMigrations({ transaction: 'all' });
    expect(await partitionOf(id)).toBe('task_runs_default');
    await expect(store.findByIdempotencyKey(null, 'old-key')).resolves.toMatchObject({ id });
    expect(await store.insert([run(uuidV7(), { idempotencyKey: 'old-key' })])).toEqual([]);
    await db.current.dataSource.query(`DELETE FROM task_runs WHERE id = $1`, [id]);
    expect(await ids('api_calls', 'task_id')).toEqual([]);
  });
});
