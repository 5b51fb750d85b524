import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { Principal } from '../../auth/principal';
import { ListTasksQuery } from '../http/dto/list-tasks-query.dto';
import { TaskState } from '../task-state';
import { TaskRun } from './entities/task-run.entity';
import { TaskQueryService } from './task-query.service';

// `tasks.a_i.*` must not match `tasks.aXi.y` (LIKE's _), and tasks.apix.* is not tasks.api.*.
const NAMES = [
  'tasks.api.call',
  'tasks.api.fetch',
  'tasks.apix.other',
  'tasks.stats.daily',
  'tasks.a_i.x',
  'tasks.aXi.y',
];
const STATES = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED];

/** GET /tasks's filters on PostgreSQL: every page walked equals the plain query's rows, in order. */
describe('TaskQueryService.list on PostgreSQL', () => {
  const db = useSpecDatabase([TaskRun]);
  let sut: TaskQueryService;
  const client: Principal = { keyId: randomUUID(), name: 'client', role: 'client' };
  const admin: Principal = { keyId: randomUUID(), name: 'admin', role: 'admin' };
  const base = Date.now() - 3_600_000;

  beforeAll(async () => {
    sut = new TaskQueryService(db.current.repository(TaskRun));
    // 600 records; every third shares its created_at with the one before (the id breaks the tie).
    await db.current.dataSource.query(
      `INSERT INTO task_runs (id, name, queue, owner, state, max_attempts, run_at, created_at, updated_at)
       SELECT gen_random_uuid(), ($1::text[])[1 + g % 6], 'default', CASE WHEN g % 4 = 0 THEN $2::uuid END,
              ($3::text[])[1 + g % 3], 1, now(), c, c
         FROM generate_series(1, 600) g,
              LATERAL (SELECT to_timestamp($4 / 1000.0) + make_interval(secs => (g - CASE WHEN g % 3 = 0 THEN 1 ELSE 0 END) * 5)) AS t(c)`,
      [NAMES, client.keyId, STATES, base],
    );
  });

  async function walk(filters: Partial<ListTasksQuery>, principal: Principal): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await sut.list({ limit: 7, ...filters, cursor } as ListTasksQuery, principal);
      ids.push(...page.items.map((run) => run.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  }

  async function expected(where: string, params: unknown[]): Promise<string[]> {
    const rows: { id: string }[] = await db.current.dataSource.query(
      `SELECT id FROM task_runs WHERE ${where} ORDER BY created_at DESC, id DESC`,
      params,
    );
    return rows.map((row) => row.id);
  }

  it.each([
    ['tasks.api.*', `name IN ('tasks.api.call', 'tasks.api.fetch')`],
    ['tasks.a_i.*', `name = 'tasks.a_i.x'`],
    ['tasks.*', 'true'],
    ['tasks.none.*', 'false'],
  ])('a prefix %s gives every matching record, newest first, across pages', async (name, where) => {
    const all = await expected(where, []);
    await expect(walk({ name }, admin)).resolves.toEqual(all);
    await expect(walk({ name }, client)).resolves.toEqual(await expected(`${where} AND owner = $1`, [client.keyId]));
  });

  it('combines a prefix with the state and time filters', async () => {
    const from = new Date(base + 600_000);
    const to = new Date(base + 2_000_000);
    await expect(walk({ name: 'tasks.api.*', state: TaskState.FAILURE, from, to }, admin)).resolves.toEqual(
      await expected(`name LIKE 'tasks.api.%' AND state = 'FAILURE' AND created_at >= $1 AND created_at < $2`, [
        from,
        to,
      ]),
    );
  });

  it('returns the records as entities with their columns', async () => {
    const [run] = (await sut.list({ limit: 1, name: 'tasks.stats.*' } as ListTasksQuery, admin)).items;
    expect(run).toBeInstanceOf(TaskRun);
    expect(run).toMatchObject({ name: 'tasks.stats.daily', queue: 'default', maxAttempts: 1 });
    expect(run.createdAt).toBeInstanceOf(Date);
  });

  it('keeps an exact name exact', async () => {
    await expect(walk({ name: 'tasks.api.call' }, client)).resolves.toEqual(
      await expected(`name = 'tasks.api.call' AND owner = $1`, [client.keyId]),
    );
  });

  describe('by parent', () => {
    const parent = randomUUID();

    beforeAll(async () => {
      await db.current.dataSource.query(
        `INSERT INTO task_runs (id, name, queue, parent_id, state, max_attempts, run_at, created_at, updated_at)
         SELECT gen_random_uuid(), 'tasks.api.call', 'default', $1, 'SUCCESS', 1, now(), c, c
           FROM generate_series(1, 40) g, LATERAL (SELECT to_timestamp($2 / 1000.0) + make_interval(secs => g / 2)) AS t(c)`,
        [parent, base],
      );
    });

    it("walks a parent's children newest first", async () => {
      const children = await expected('parent_id = $1', [parent]);
      expect(children).toHaveLength(40);
      await expect(walk({ parentId: parent }, admin)).resolves.toEqual(children);
    });

    // A bulk import's parent has thousands of children: a page must not sort all of them.
    it('reads a page in index order, without sorting the children', async () => {
      const { sql, params } = sut.listStatement({ limit: 7, parentId: parent } as ListTasksQuery, admin);
      const plan = await db.current.dataSource.transaction(async (manager) => {
        await manager.query('SET LOCAL enable_sort = off');
        await manager.query('SET LOCAL enable_seqscan = off');
        const rows: { 'QUERY PLAN': string }[] = await manager.query(`EXPLAIN ${sql}`, params);
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      // Each partition's own copy of task_runs_parent.
      expect(plan).toMatch(/Index Scan using task_runs_\w*parent\w* on /);
      expect(plan).not.toMatch(/\bSort\b/);
    });
  });
});
