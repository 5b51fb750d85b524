import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { AppConfig } from '../../config/app-config';
import { runtimeBucket } from './runtime-histogram';
import { StoreHealth } from '../store-health';
import { TaskRunPartitions } from './task-run-partitions';
import { TaskRetention } from './task-retention.service';
import { TaskRunStore } from './task-run.store';
import { TaskRecordWriter } from '../run/task-record.writer';
import { TaskState } from '../task-state';
import { TaskStatistics } from './task-statistics.service';

// The rollups computed from scratch: what the triggers must have kept, row for row.
const spans = `CROSS JOIN (VALUES (1), (60)) AS span(m)`;
const bucket = `date_trunc(CASE span.m WHEN 1 THEN 'minute' ELSE 'hour' END, finished_at)`;
const SCAN_COUNTS_SQL = `
  SELECT span.m AS span_minutes, ${bucket} AS bucket, name, queue, state,
         count(*)::int AS count, sum(greatest(attempts - 1, 0))::int AS retries
    FROM task_runs ${spans} WHERE finished_at IS NOT NULL
   GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`;
const SCAN_RUNTIMES_SQL = `
  SELECT span.m AS span_minutes, ${bucket} AS bucket, name, queue, task_runtime_bucket(runtime_ms) AS runtime_bucket,
         count(*)::int AS count
    FROM task_runs ${spans} WHERE finished_at IS NOT NULL AND runtime_ms IS NOT NULL
   GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`;
const COUNTS_SQL = `
  SELECT span_minutes, bucket, name, queue, state, count, retries
    FROM task_run_rollups WHERE count <> 0 OR retries <> 0 ORDER BY 1, 2, 3, 4, 5`;
const RUNTIMES_SQL = `
  SELECT span_minutes, bucket, name, queue, runtime_bucket, count
    FROM task_run_runtime_rollups WHERE count <> 0 ORDER BY 1, 2, 3, 4, 5`;

/** The per-minute rollups that GET /stats reads, kept by triggers on `task_runs`. */
describe('task_run_rollups on PostgreSQL', () => {
  const db = useSpecDatabase();
  let writer: TaskRecordWriter;

  beforeEach(async () => {
    await db.current.empty('task_runs', 'task_run_rollups', 'task_run_runtime_rollups');
    writer = new TaskRecordWriter(AppConfig.fromEnv({ DATABASE_URL: db.current.url }), new StoreHealth());
  });
  afterEach(() => writer.onApplicationShutdown());

  async function open(name: string, queue = 'default'): Promise<string> {
    const id = randomUUID();
    await db.current.dataSource.query(
      `INSERT INTO task_runs (id, name, queue, state, max_attempts, run_at, created_at, updated_at)
       VALUES ($1, $2, $3, 'PENDING', 5, now(), now(), now())`,
      [id, name, queue],
    );
    return id;
  }

  const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);
  const query = (sql: string, params: unknown[] = []) => db.current.dataSource.query(sql, params);

  it('equal a scan of the records after a mix of finishes, rewrites, revokes and resets', async () => {
    const [a, b, c, d, e, f, g] = await Promise.all([
      open('tasks.mix.a'),
      open('tasks.mix.a'),
      open('tasks.mix.b', 'other'),
      open('tasks.mix.b', 'other'),
      open('tasks.mix.c'),
      open('tasks.mix.c'),
      open('tasks.mix.c'),
    ]);
    // One batch: several finishes of different minutes, hours, states and runtimes.
    await Promise.all([
      writer.write(a, { state: TaskState.SUCCESS, attempts: 1, runtimeMs: 7, finishedAt: ago(1) }, true),
      writer.write(b, { state: TaskState.SUCCESS, attempts: 2, runtimeMs: 1234, finishedAt: ago(90) }, true),
      writer.write(c, { state: TaskState.FAILURE, attempts: 5, runtimeMs: 40_000, finishedAt: ago(3) }, true),
      writer.write(d, { state: TaskState.STARTED, attempts: 1 }, true),
      writer.write(e, { state: TaskState.RETRY, attempts: 1, runtimeMs: 3 }, true),
    ]);
    // A retry that then succeeds; a stale RETRY after it (refused by the writer); a duplicate run
    // that finishes the same task again, later and slower.
    await writer.write(e, { state: TaskState.SUCCESS, attempts: 2, runtimeMs: 5, finishedAt: ago(2) }, true);
    await writer.write(e, { state: TaskState.RETRY, finishedAt: null }, true);
    await writer.write(b, { state: TaskState.SUCCESS, attempts: 3, runtimeMs: 2500, finishedAt: ago(0) }, true);
    // Revoke (cancel/purge) and POST /tasks/:id/retry's reset go around the writer.
    await query(`UPDATE task_runs SET state = 'REVOKED', finished_at = now() WHERE id = ANY($1::uuid[])`, [[d, f]]);
    await query(
      `UPDATE task_runs SET state = 'PENDING', attempts = 0, finished_at = NULL, runtime_ms = NULL
                 WHERE id = $1`,
      [c],
    );
    // A record written already finished (a restore, an import).
    await query(
      `INSERT INTO task_runs (id, name, queue, state, attempts, max_attempts, run_at, created_at, updated_at, finished_at, runtime_ms)
       VALUES ($1, 'tasks.mix.d', 'default', 'SUCCESS', 1, 1, now(), now(), now(), now() - interval '2 days', 90)`,
      [randomUUID()],
    );
    // An update of a finished record that changes nothing counted.
    await query(`UPDATE task_runs SET updated_at = now() WHERE id = $1`, [g]);

    const counts = await query(COUNTS_SQL);
    expect(counts).toEqual(await query(SCAN_COUNTS_SQL));
    expect(counts.filter((r: { span_minutes: number }) => r.span_minutes === 1)).toHaveLength(6);
    expect(await query(RUNTIMES_SQL)).toEqual(await query(SCAN_RUNTIMES_SQL));
  });

  it('number runtime buckets the same in SQL and in TypeScript', async () => {
    const samples = [0, 1, 15, 16, 17, 18, 19, 31, 32, 33, 100, 999, 1000, 1024, 65_535, 65_536, 3_600_000];
    for (let ms = 0; ms < 5000; ms += 7) samples.push(ms);
    const [{ buckets }] = await query(
      `SELECT array_agg(task_runtime_bucket(ms) ORDER BY o) AS buckets
                                         FROM unnest($1::int[]) WITH ORDINALITY AS u(ms, o)`,
      [samples],
    );
    expect(buckets).toEqual(samples.map(runtimeBucket));
  });

  it('answer GET /stats without reading the records', async () => {
    const runtimes = [2, 4, 6, 8, 10];
    for (const runtimeMs of runtimes) {
      const id = await open('tasks.stats.read');
      await writer.write(id, { state: TaskState.SUCCESS, attempts: 1, runtimeMs, finishedAt: ago(5) }, true);
    }
    const failed = await open('tasks.stats.read');
    await writer.write(failed, { state: TaskState.FAILURE, attempts: 3, runtimeMs: 10, finishedAt: ago(5) }, true);
    const old = await open('tasks.stats.read');
    await writer.write(old, { state: TaskState.SUCCESS, attempts: 1, runtimeMs: 1, finishedAt: ago(180) }, true);

    const statistics = new TaskStatistics(db.current.dataSource);
    const expected = await statistics.finished(60);
    // The records are gone (retention); the statistics of what finished are not.
    await query(`DELETE FROM task_runs`);
    const report = await statistics.finished(60);
    expect(report).toEqual({ ...expected, window: expect.any(Object) });
    // Runtimes under 16 ms have exact buckets, so the percentiles are percentile_cont's:
    // over 2, 4, 6, 8, 10, 10, p50 is 7 and p95 is 10.
    const row = { processed: 6, succeeded: 5, failed: 1, revoked: 0, retried: 2, runtimeP50Ms: 7, runtimeP95Ms: 10 };
    expect(report.byQueue).toEqual([{ queue: 'default', ...row }]);
    expect(report.byTask).toEqual([{ queue: 'default', name: 'tasks.stats.read', ...row }]);
    // 4 h reaches the old one (through the hourly rollups), 1 min nothing; 2 days start on the hour.
    expect((await statistics.finished(240)).byQueue[0].processed).toBe(7);
    const days = await statistics.finished(2 * 1440);
    expect(days.byQueue[0].processed).toBe(7);
    expect(days.window.from.getTime() % 3_600_000).toBe(0);
    const empty = await statistics.finished(1);
    expect(empty.byQueue).toEqual([]);
    expect(empty.window.to.getTime() - empty.window.from.getTime()).toBeGreaterThanOrEqual(60_000);
  });

  it('outlive the expired records, and are pruned after their own retention', async () => {
    const id = await open('tasks.retention');
    await writer.write(id, { state: TaskState.SUCCESS, attempts: 1, runtimeMs: 3, finishedAt: ago(3 * 24 * 60) }, true);
    // Per-minute rows go after 2 days, hourly ones after 8.
    await query(`INSERT INTO task_run_rollups VALUES (1, now() - interval '3 days', 'tasks.ancient', 'default', 'SUCCESS', 1, 0),
                                                      (60, now() - interval '9 days', 'tasks.ancient', 'default', 'SUCCESS', 1, 0)`);
    await query(`INSERT INTO task_run_runtime_rollups VALUES (1, now() - interval '3 days', 'tasks.ancient', 'default', 3, 1),
                                                              (60, now() - interval '9 days', 'tasks.ancient', 'default', 3, 1)`);
    const retention = new TaskRetention(
      AppConfig.fromEnv({ DATABASE_URL: db.current.url, RESULT_EXPIRES_SECONDS: String(24 * 3600) }),
      db.current.dataSource,
      new TaskRunStore(db.current.dataSource),
      new StoreHealth(),
      new TaskRunPartitions(),
    );
    await retention.expire();
    expect(await query(`SELECT id FROM task_runs`)).toEqual([]);
    for (const table of ['task_run_rollups', 'task_run_runtime_rollups'])
      expect(await query(`SELECT span_minutes, name FROM ${table} ORDER BY 1`)).toEqual([
        { span_minutes: 60, name: 'tasks.retention' },
      ]);
  });
});
