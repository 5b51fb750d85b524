import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { localDate } from '../src/common/calendar-date';
import { TaskState } from '../src/tasks/task-state';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

// Daily totals cover every task in the database, so this spec gets a database of its own:
// other specs running at the same time would otherwise change the numbers it checks.
const database = `${process.env.TEST_DATABASE_NAME}_stats`;

function databaseUrl(name: string): string {
  const url = new URL(process.env.TEST_POSTGRES_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: Client) => Promise<T>, url = process.env.TEST_POSTGRES_URL!): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('tasks.stats.* (own database, Asia/Shanghai)', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    await admin((c) => c.query(`CREATE DATABASE ${database}`));
    svc = await startTestService({ DATABASE_URL: databaseUrl(database), TZ: 'Asia/Shanghai', STATS_SCHEDULE: 'false' });
    api = svc.admin;
  });
  afterAll(async () => {
    await svc?.stop();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  const report = async (date: string) => {
    const response = await api.post('/stats/daily', { date });
    expect(response.status).toBe(202);
    const done = await api.waitForTask(response.body.id);
    expect(done).toMatchObject({ state: 'SUCCESS', name: 'tasks.stats.daily_report', queue: 'default' });
    return done;
  };
  const byName = (result: { tasks: { name: string }[] }, name: string) => result.tasks.find((t) => t.name === name);

  it("totals today's tasks by outcome, with retries", async () => {
    const ids = [
      ...(await Promise.all([1, 2, 3].map((n) => api.submit('tasks.system.noop', { n })))).map((t) => t.id),
      (await api.submit('tasks.system.sleep', { ms: 10, failTimes: 1 })).id,
      (await api.submit('tasks.system.sleep', { ms: 10, failTimes: 5 })).id,
    ];
    const cancelled = await api.submit('tasks.system.sleep', { ms: 60_000 });
    await api.waitForTask(cancelled.id, [TaskState.STARTED]);
    expect((await api.post(`/tasks/${cancelled.id}/cancel`)).status).toBe(200);
    const finals = await Promise.all([...ids, cancelled.id].map((id) => api.waitForTask(id)));
    expect(finals.map((t) => t.state)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE', 'REVOKED']);

    const today = localDate(new Date(), 'Asia/Shanghai');
    const { result } = await report(today);
    expect(result).toMatchObject({ date: today, timezone: 'Asia/Shanghai' });
    expect(byName(result, 'tasks.system.noop')).toMatchObject({
      submitted: 3,
      succeeded: 3,
      failed: 0,
      revoked: 0,
      open: 0,
      retries: 0,
      runtimeP50Ms: expect.any(Number),
    });
    expect(byName(result, 'tasks.system.sleep')).toMatchObject({
      submitted: 3,
      succeeded: 1,
      failed: 1,
      revoked: 1,
      open: 0,
      retries: 3,
    });

    const listed = await api.get(`/stats/daily?from=${today}&to=${today}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({ date: today, taskId: result.taskId });

    // Re-running replaces the day's report rather than adding a second one.
    const again = await report(today);
    const relisted = await api.get(`/stats/daily?from=${today}&to=${today}`);
    expect(relisted.body).toHaveLength(1);
    expect(relisted.body[0].taskId).toBe(again.id);
  });

  it('assigns tasks to the calendar day of Asia/Shanghai, with percentiles from SQL', async () => {
    const rows: [string, string, number, number | null][] = [
      ['2026-11-27T15:59:59Z', 'SUCCESS', 1, 50], // 23:59:59 on the 27th in Shanghai
      ['2026-11-27T16:30:00Z', 'SUCCESS', 1, 100], // 00:30 on the 28th
      ['2026-11-28T02:00:00Z', 'SUCCESS', 2, 200],
      ['2026-11-28T08:00:00Z', 'SUCCESS', 1, 300],
      ['2026-11-28T15:59:59.999Z', 'SUCCESS', 1, 400], // 23:59:59.999 on the 28th
      ['2026-11-28T12:00:00Z', 'FAILURE', 3, 9999],
      ['2026-11-28T16:00:00Z', 'SUCCESS', 1, 70], // midnight: the 29th
    ];
    await admin(async (c) => {
      for (const [createdAt, state, attempts, runtime] of rows) {
        await c.query(
          `INSERT INTO task_runs (id, name, queue, state, attempts, max_attempts, run_at, created_at, updated_at, runtime_ms)
           VALUES ($1, 'tasks.e2e.boundary', 'default', $2, $3, 3, $4, $4, $4, $5)`,
          [randomUUID(), state, attempts, createdAt, runtime],
        );
      }
    }, databaseUrl(database));

    const { result } = await report('2026-11-28');
    expect(new Date(result.windowStart).toISOString()).toBe('2026-11-27T16:00:00.000Z');
    expect(new Date(result.windowEnd).toISOString()).toBe('2026-11-28T16:00:00.000Z');
    // percentile_cont over 100, 200, 300, 400 (SUCCESS only): p50 250, p95 385.
    expect(byName(result, 'tasks.e2e.boundary')).toEqual({
      name: 'tasks.e2e.boundary',
      submitted: 5,
      succeeded: 4,
      failed: 1,
      revoked: 0,
      open: 0,
      retries: 3,
      runtimeP50Ms: 250,
      runtimeP95Ms: 385,
    });
    expect(byName((await report('2026-11-27')).result, 'tasks.e2e.boundary')).toMatchObject({
      submitted: 1,
      runtimeP50Ms: 50,
    });

    const empty = (await report('2020-01-01')).result;
    expect(empty.tasks).toEqual([]);
    expect(empty.totals).toMatchObject({ submitted: 0, runtimeP50Ms: null });
  });

  it('snapshots task counts and queue depths, pruning old snapshots', async () => {
    const stale = randomUUID();
    await admin(
      (c) =>
        c.query(
          `INSERT INTO stats_snapshots (task_id, window_start, window_end, task_counts, queue_depths, created_at) VALUES ($1, now() - interval '40 days', now() - interval '40 days', '[]', '{}', now())`,
          [stale],
        ),
      databaseUrl(database),
    );
    const submitted = await api.submit('tasks.stats.collect', { intervalMinutes: 60 });
    const done = await api.waitForTask(submitted.id);
    expect(done.state).toBe('SUCCESS');
    expect(Object.keys(done.result.queueDepths)).toEqual(expect.arrayContaining(['default', 'api_calls']));
    const snapshots = await api.get('/stats/snapshots?limit=5');
    expect(snapshots.status).toBe(200);
    const mine = snapshots.body.find((s: { taskId: string }) => s.taskId === done.id);
    expect(mine.taskCounts).toEqual(
      expect.arrayContaining([{ name: 'tasks.system.noop', state: 'SUCCESS', count: 3 }]),
    );
    expect(mine.queueDepths.default).toEqual(
      expect.objectContaining({ waiting: expect.any(Number), active: expect.any(Number) }),
    );
    const left = await admin(
      (c) => c.query('SELECT 1 FROM stats_snapshots WHERE task_id = $1', [stale]),
      databaseUrl(database),
    );
    expect(left.rowCount).toBe(0);
  });

  it('is for operators only, and validates its input', async () => {
    const client = await svc.newClient();
    expect((await client.post('/stats/daily', {})).status).toBe(403);
    expect((await client.get('/stats/daily')).status).toBe(403);
    const sneaky = await client.submit('tasks.stats.daily_report', { date: '2026-11-28' });
    const failed = await client.waitForTask(sneaky.id);
    expect(failed).toMatchObject({ state: 'FAILURE', attempts: 1 });
    expect(failed.error.message).toMatch(/operator tasks/);

    const badDate = await api.post('/stats/daily', { date: '2026-02-30' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.errors).toEqual([expect.objectContaining({ field: 'date', rule: 'isCalendarDate' })]);
    const badRange = await api.get('/stats/daily?from=2026-12-01&to=2026-11-01');
    expect(badRange.status).toBe(400);
    expect(badRange.body.errors[0]).toMatchObject({ field: 'from', rule: 'beforeTo' });
  });
});
