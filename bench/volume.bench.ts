/**
 * History at volume (#18): the service with 0, 5M, 20M finished records in `task_runs`.
 * Records are seeded with SQL (generate_series; see volume-seed.ts): finished over the retention
 * window, the declared task names (a few frequent, many rare), per-task runtimes, ~90% SUCCESS,
 * args and results of realistic size, and the rollups they would have. At each size:
 *   - submit rate (POST /tasks, BENCH_CONCURRENCY clients, queue paused) and finish rate (one
 *     worker process drains them; finishes counted from the writer's commit notifications);
 *   - p99 of each GET /tasks filter;
 *   - EXPLAIN (ANALYZE) of the outbox's, the reconciler's and retention's queries, and of the
 *     lookup by id (a UUIDv7 in its day's partition, a caller's uuid4 in the default one);
 *   - GET /stats over 1 h, 24 h, 7 d (and, for reference, the record scan it replaced);
 *   - one retention pass over RETENTION_ROWS records past RESULT_EXPIRES_SECONDS, all created on
 *     one UTC day whose partition is due, so the pass drops that day whole; and, for the
 *     records no drop takes (callers' uuid4 ids, in the default partition), a pass that
 *     deletes RETENTION_ROWS of them one by one;
 *   - at the end (unless VOLUME_SATURATED=0), GET /stats on rollups as large as they get at
 *     any rate;
 *   - on the first size (unless VOLUME_TRIGGER_COST=0), what the rollups cost: the writer's
 *     batches and the pipeline's rates without them, with the shipped statement-level triggers
 *     and with a row-level trigger instead.
 * The bench database is dropped at the end, unless BENCH_VOLUME_KEEP=1: then it is kept
 * (KEPT_DATABASE) and the next run with BENCH_VOLUME_KEEP=1 measures the records it holds instead
 * of seeding them again (sizes below what it holds are skipped; larger ones seed the difference).
 *
 * Usage: npm run bench:volume
 *   BENCH_VOLUME_SIZES=0,5000000,20000000 (or VOLUME_SIZES)  BENCH_VOLUME_KEEP=1
 *   VOLUME_TASKS=10000 (submitted and finished per size)
 *   RETENTION_ROWS=50000  BENCH_CONCURRENCY=32  VOLUME_SCAN_BASELINE=1  BENCH_NO_BUILD=1 (skip nest build)
 *   BENCH_POSTGRES_URL / BENCH_REDIS_URL as for the other benches.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { ApiKeyService } from '../src/auth/api-key.service';
import { startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { FINISHED_CHANNEL } from '../src/tasks/records/task-completions.service';
import { StoreHealth } from '../src/tasks/store-health';
import { TaskQueues } from '../src/tasks/queues/task-queues.service';
import { ListTasksQuery } from '../src/tasks/http/dto/list-tasks-query.dto';
import { TaskQueryService } from '../src/tasks/records/task-query.service';
import { TaskRetention } from '../src/tasks/records/task-retention.service';
import { DAY_MS, dayOf, firstIdAt, TaskRunPartitions } from '../src/tasks/records/task-run-partitions';
import { DataSource } from 'typeorm';
import { TaskRecordWriter } from '../src/tasks/run/task-record.writer';
import { TaskRegistry } from '../src/tasks/task-registry.service';
import { TaskState } from '../src/tasks/task-state';
import { ROOT, serviceEnv, spawnWorker } from './pipeline-run';
import { fmt, machineLoad, percentile, REDIS_URL, sleep, uniquePrefix } from './support';
import {
  DeclaredTask,
  KEPT_DATABASE,
  newSeedIds,
  openVolumeDatabase,
  RETENTION_SECONDS,
  seedDue,
  SeedIds,
  seedProgress,
  seedRecords,
} from './volume-seed';

const SIZES = (process.env.BENCH_VOLUME_SIZES ?? process.env.VOLUME_SIZES ?? '0,5000000,20000000')
  .split(',')
  .map(Number);
const KEEP = process.env.BENCH_VOLUME_KEEP === '1';
const TASKS = Number(process.env.VOLUME_TASKS ?? 10_000);
const RETENTION_ROWS = Number(process.env.RETENTION_ROWS ?? 50_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SCAN_BASELINE = process.env.VOLUME_SCAN_BASELINE !== '0';
const LIST_SAMPLES = 100;
const STATS_SAMPLES = 10;
const ADMIN_KEY = 'bench-admin-key-0123456789';

// GET /stats before the rollups: a scan of the records (kept here only as the baseline).
const SCAN_SQL = `
  SELECT name, queue, GROUPING(name) AS by_queue, count(*) AS processed,
         count(*) FILTER (WHERE state = 'SUCCESS') AS succeeded, count(*) FILTER (WHERE state = 'FAILURE') AS failed,
         count(*) FILTER (WHERE state = 'REVOKED') AS revoked, coalesce(sum(greatest(attempts - 1, 0)), 0) AS retried,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY runtime_ms) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY runtime_ms) AS p95
    FROM task_runs WHERE finished_at IS NOT NULL AND finished_at >= now() - make_interval(mins => $1)
   GROUP BY GROUPING SETS ((queue, name), (queue))`;

// The background queries, as the services issue them.
const PLANS: [string, string, (client: Client) => Promise<unknown[]>][] = [
  [
    'outbox (TaskRunStore.lockOutboxBatch)',
    `SELECT * FROM task_runs t WHERE t.enqueued_at IS NULL AND t.state = 'PENDING' AND t.created_at <= $1
      ORDER BY t.created_at ASC, t.id ASC LIMIT 500 FOR UPDATE SKIP LOCKED`,
    async () => [new Date()],
  ],
  [
    'reconciler (TaskRunStore.findStaleOpen)',
    `SELECT * FROM task_runs WHERE state IN ('PENDING', 'STARTED', 'RETRY') AND updated_at < $1
        AND enqueued_at IS NOT NULL ORDER BY updated_at ASC LIMIT 500`,
    async () => [new Date(Date.now() - 30_000)],
  ],
  [
    'retention batch, default partition (TaskRunStore.deleteFinishedBefore)',
    `SELECT id FROM task_runs_default WHERE finished_at < $1 AND state IN ('SUCCESS', 'FAILURE', 'REVOKED') LIMIT 5000`,
    async () => [new Date(Date.now() - RETENTION_SECONDS * 1000)],
  ],
  [
    'retention batch, due partitions kept for an open task (TaskRunStore.deleteFinishedBefore)',
    `SELECT id FROM task_runs WHERE id < $2 AND finished_at < $1 AND state IN ('SUCCESS', 'FAILURE', 'REVOKED') LIMIT 5000`,
    async () => {
      const cutoff = Date.now() - RETENTION_SECONDS * 1000;
      return [new Date(cutoff), firstIdAt(dayOf(cutoff))];
    },
  ],
  [
    'lookup by id (GET /tasks/:id), a UUIDv7',
    `SELECT * FROM task_runs WHERE id = $1`,
    async (client) => [
      (await client.query(`SELECT id FROM task_runs TABLESAMPLE SYSTEM (1) LIMIT 1`)).rows[0]?.id ?? randomUUID(),
    ],
  ],
  [
    "lookup by id (GET /tasks/:id), a caller's uuid4",
    `SELECT * FROM task_runs WHERE id = $1`,
    async () => [randomUUID()],
  ],
];

interface Api {
  base: string;
  get(path: string, key?: string): Promise<number>;
}

async function timed(samples: number, work: () => Promise<unknown>): Promise<number[]> {
  await work(); // warm
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

// The alternative to the shipped statement-level triggers: a row-level trigger doing the same
// upserts once per finished row (and per span and table), only for rows whose counted columns change.
const ROW_TRIGGER_SQL = [
  `CREATE FUNCTION bench_rollup_add(t timestamptz, nm text, q text, st text, rt int, att int, n int) RETURNS void
   LANGUAGE sql AS $$
     INSERT INTO task_run_rollups AS r VALUES (1, date_trunc('minute', t), nm, q, st, n, n * greatest(att - 1, 0)),
                                              (60, date_trunc('hour', t), nm, q, st, n, n * greatest(att - 1, 0))
     ON CONFLICT (span_minutes, bucket, name, queue, state)
     DO UPDATE SET count = r.count + excluded.count, retries = r.retries + excluded.retries;
     INSERT INTO task_run_runtime_rollups AS r
     SELECT s, date_trunc(CASE s WHEN 1 THEN 'minute' ELSE 'hour' END, t), nm, q, task_runtime_bucket(rt), n
       FROM (VALUES (1::smallint), (60::smallint)) v(s) WHERE rt IS NOT NULL
     ON CONFLICT (span_minutes, bucket, name, queue, runtime_bucket) DO UPDATE SET count = r.count + excluded.count
   $$`,
  `CREATE FUNCTION bench_rollups_row() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF OLD.finished_at IS NOT NULL THEN
       PERFORM bench_rollup_add(OLD.finished_at, OLD.name, OLD.queue, OLD.state, OLD.runtime_ms, OLD.attempts, -1);
     END IF;
     IF NEW.finished_at IS NOT NULL THEN
       PERFORM bench_rollup_add(NEW.finished_at, NEW.name, NEW.queue, NEW.state, NEW.runtime_ms, NEW.attempts, 1);
     END IF;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER bench_rollups_row AFTER UPDATE ON task_runs FOR EACH ROW
   WHEN (OLD.finished_at IS DISTINCT FROM NEW.finished_at OR OLD.state IS DISTINCT FROM NEW.state
         OR OLD.runtime_ms IS DISTINCT FROM NEW.runtime_ms OR OLD.attempts IS DISTINCT FROM NEW.attempts)
   EXECUTE FUNCTION bench_rollups_row()`,
];

/**
 * The record writer's finishing batches (the real TaskRecordWriter, 1,000 records a batch) with
 * no rollups, with the shipped statement-level triggers, and with a row-level trigger instead.
 */
async function writerBatchCost(client: Client, databaseUrl: string, line: (s: string) => void) {
  const statementTriggers = ['task_run_rollups_inserted', 'task_run_rollups_updated'];
  const setStatement = async (on: boolean) => {
    for (const t of statementTriggers)
      await client.query(`ALTER TABLE task_runs ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`);
  };
  const variants: [string, () => Promise<void>, () => Promise<void>][] = [
    ['no rollups', () => setStatement(false), () => setStatement(true)],
    ['statement-level triggers (shipped)', async () => undefined, async () => undefined],
    [
      'row-level trigger instead',
      async () => {
        await setStatement(false);
        for (const sql of ROW_TRIGGER_SQL) await client.query(sql);
      },
      async () => {
        await client.query('DROP TRIGGER bench_rollups_row ON task_runs');
        await client.query(
          'DROP FUNCTION bench_rollups_row(), bench_rollup_add(timestamptz, text, text, text, int, int, int)',
        );
        await setStatement(true);
      },
    ],
  ];
  const names = ['tasks.api.call', 'tasks.email.send_email', 'tasks.file.process_file', 'tasks.credits.consume'];
  for (const [label, setUp, tearDown] of variants) {
    await setUp();
    const ids: string[] = (
      await client.query(
        `INSERT INTO task_runs (id, name, queue, state, attempts, max_attempts, run_at, created_at, updated_at, enqueued_at)
         SELECT gen_random_uuid(), ($1::text[])[1 + g % 4], 'default', 'STARTED', 1, 3, now(), now(), now(), now()
           FROM generate_series(1, 20000) g RETURNING id`,
        [names],
      )
    ).rows.map((r) => r.id);
    await client.query('ANALYZE task_runs');
    const writer = new TaskRecordWriter(AppConfig.fromEnv({ DATABASE_URL: databaseUrl }), new StoreHealth());
    const times: number[] = [];
    const start = performance.now();
    for (let i = 0; i < ids.length; i += 1000) {
      const t0 = performance.now();
      await Promise.all(
        ids.slice(i, i + 1000).map((id, j) =>
          writer.write(
            id,
            {
              state: TaskState.SUCCESS,
              attempts: 1 + (j % 7 === 0 ? 1 : 0),
              runtimeMs: 1 + ((j * 37) % 5000),
              finishedAt: new Date(),
              result: { ok: true },
            },
            true,
          ),
        ),
      );
      times.push(performance.now() - t0);
    }
    const rate = ids.length / ((performance.now() - start) / 1000);
    await writer.onApplicationShutdown();
    await tearDown();
    times.sort((a, b) => a - b);
    line(
      `  writer, 1,000 finishes a batch, ${label.padEnd(36)} p50 ${fmt(percentile(times, 50), 1).padStart(6)} ms/batch  ${fmt(rate).padStart(7)} rows/s`,
    );
  }
}

/**
 * GET /stats reads only the rollups, and their size stops growing with the rate once every key
 * exists: every task name in every state, and 15 runtime buckets of each, in every minute (the
 * 2 days kept) and every hour (8 days). That worst case, written straight into the rollups
 * (seeding records that dense would take hours here), bounds GET /stats at any volume.
 */
async function saturatedStats(client: Client, api: Api, tasks: DeclaredTask[]) {
  // The real rollups are put back after: a kept database's must still match its records.
  await client.query(`CREATE TABLE bench_saved_rollups AS TABLE task_run_rollups;
                      CREATE TABLE bench_saved_runtime_rollups AS TABLE task_run_runtime_rollups`);
  await client.query('TRUNCATE task_run_rollups, task_run_runtime_rollups');
  const spans = `(SELECT 1 AS m, generate_series(date_trunc('minute', now()) - interval '2 days', now(), interval '1 minute') AS b
                  UNION ALL
                  SELECT 60, generate_series(date_trunc('hour', now()) - interval '8 days', now(), interval '1 hour'))`;
  const t = `unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(name, queue, k)`;
  await client.query(
    `INSERT INTO task_run_rollups SELECT s.m, s.b, t.name, t.queue, st, s.m * 30, s.m * 3
       FROM ${spans} s, ${t}, unnest(ARRAY['SUCCESS', 'FAILURE', 'REVOKED']) st`,
    [tasks.map((x) => x.name), tasks.map((x) => x.queue)],
  );
  await client.query(
    `INSERT INTO task_run_runtime_rollups SELECT s.m, s.b, t.name, t.queue, 16 + (t.k % 14) * 4 + rb, s.m * 6
       FROM ${spans} s, ${t}, generate_series(-7, 7) rb`,
    [tasks.map((x) => x.name), tasks.map((x) => x.queue)],
  );
  await client.query('VACUUM ANALYZE task_run_rollups, task_run_runtime_rollups');
  const [{ rows }] = (
    await client.query(
      `SELECT (SELECT count(*) FROM task_run_rollups) + (SELECT count(*) FROM task_run_runtime_rollups) AS rows`,
    )
  ).rows;
  console.log(
    `## saturated rollups: ${fmt(Number(rows))} rows (${tasks.length} tasks × 3 states + 15 runtime buckets, every minute of 2 days and hour of 8)`,
  );
  for (const minutes of [60, 1440, 10080]) {
    const times = await timed(STATS_SAMPLES, () => api.get(`/stats?windowMinutes=${minutes}`));
    console.log(
      `  GET /stats?windowMinutes=${String(minutes).padEnd(6)} p50 ${fmt(percentile(times, 50), 1).padStart(7)} ms  max ${fmt(times[times.length - 1], 1).padStart(7)} ms`,
    );
  }
  await client.query(`TRUNCATE task_run_rollups, task_run_runtime_rollups;
                      INSERT INTO task_run_rollups TABLE bench_saved_rollups;
                      INSERT INTO task_run_runtime_rollups TABLE bench_saved_runtime_rollups;
                      DROP TABLE bench_saved_rollups, bench_saved_runtime_rollups`);
}

async function main() {
  const database = await openVolumeDatabase(KEEP);
  const prefix = uniquePrefix('volume');
  const env = {
    ...serviceEnv({ databaseUrl: database.url, redisUrl: REDIS_URL }, prefix, 'api', 256),
    ADMIN_API_KEY: ADMIN_KEY,
    STATS_SCHEDULE: 'false',
    // Retention and reconcile passes run when the bench says, not on a timer.
    RECONCILE_INTERVAL_MS: String(24 * 3600_000),
    RESULT_EXPIRES_SECONDS: String(RETENTION_SECONDS),
  };
  const client = new Client({ connectionString: database.url });
  const listener = new Client({ connectionString: database.url });
  let worker: ReturnType<typeof spawnWorker> | undefined;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    if (!process.env.BENCH_NO_BUILD) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore' });
    service = await startService(AppConfig.fromEnv(env));
    const app = service.app;
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    // A kept database's records belong to the client key they were seeded with.
    const ids: SeedIds =
      database.seeded?.ids ??
      (await app
        .get(ApiKeyService)
        .create('bench-volume-client', 'client')
        .then(({ key, secret }) => newSeedIds(key.id, secret, randomUUID)));
    const tasks = app
      .get(TaskRegistry)
      .all()
      .map((t) => ({ name: t.definition.name, queue: t.queue }));
    const api: Api = {
      base,
      get: async (path, key = ADMIN_KEY) => {
        const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${path} gave ${res.status}`);
        return res.status;
      },
    };
    await client.connect();
    await listener.connect();
    let notified = 0;
    listener.on('notification', (m) => (notified += m.payload ? m.payload.split(',').length : 0));
    await listener.query(`LISTEN ${FINISHED_CHANNEL}`);
    const queue = app.get(TaskQueues).get('default');
    worker = spawnWorker({
      ...serviceEnv({ databaseUrl: database.url, redisUrl: REDIS_URL }, prefix, 'worker', 256),
      STATS_SCHEDULE: 'false',
    });
    while (Number((await client.query('SELECT count(*) AS n FROM worker_heartbeats')).rows[0].n) === 0)
      await sleep(100);

    console.log(
      `bench:volume — sizes ${SIZES.map((s) => fmt(s)).join(', ')}; ${fmt(TASKS)} tasks submitted/finished per size; ` +
        `${tasks.length} declared tasks; ${machineLoad()}\n`,
    );
    // The days a seed writes get their partitions first, as the service makes them ahead.
    const makeSeedPartitions = async () => {
      const partitions = app.get(TaskRunPartitions);
      const first = dayOf(Date.now() - RETENTION_SECONDS * 1000) - DAY_MS;
      for (let day = first; day <= dayOf(Date.now()); day += DAY_MS)
        await partitions.ensure((work) => app.get(DataSource).transaction(work), day);
    };
    let seeded = database.seeded?.count ?? 0;
    for (const size of SIZES) {
      if (size < seeded) {
        console.log(`## ${fmt(size)} records: skipped, the kept database ${KEPT_DATABASE} holds ${fmt(seeded)}\n`);
        continue;
      }
      const t0 = performance.now();
      const steps: string[] = [];
      if (size > seeded) {
        await makeSeedPartitions();
        await database.markSeeding(client);
        await seedRecords(client, seeded + 1, size, tasks, ids, {
          onChunk: seedProgress,
          onStep: (step, ms) => steps.push(`${step} ${fmt(ms / 1000, 1)} s`),
        });
        await database.markSeeded(client, size, ids);
      }
      const added = size - seeded;
      seeded = size;
      // A first pass: per-minute rollups older than their retention go, as in service.
      await app.get(TaskRetention).expire();
      const seedS = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      await client.query('VACUUM ANALYZE task_runs');
      await client.query('VACUUM ANALYZE task_run_rollups, task_run_runtime_rollups');
      const vacuumS = (performance.now() - t1) / 1000;
      const [{ records, rollups, bytes }] = (
        await client.query(`SELECT (SELECT count(*) FROM task_runs)::bigint AS records,
                                   (SELECT count(*) FROM task_run_rollups)::bigint
                                     + (SELECT count(*) FROM task_run_runtime_rollups)::bigint AS rollups,
                                   (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'task_runs'::regclass) AS bytes`)
      ).rows;
      const line = (s: string) => console.log(s);
      line(
        `## ${fmt(Number(records))} records (${fmt(Number(bytes) / 2 ** 30, 1)} GiB with indexes; ${fmt(Number(rollups))} rollup rows)`,
      );
      line(
        added > 0
          ? `seeded ${fmt(added)} in ${fmt(seedS)} s (${fmt(added / seedS)} rows/s; ${steps.join(', ')}), VACUUM ANALYZE ${fmt(vacuumS)} s; ${machineLoad()}`
          : `${size > 0 ? `reused the records of ${KEPT_DATABASE}; ` : ''}VACUUM ANALYZE ${fmt(vacuumS)} s; ${machineLoad()}`,
      );

      // Submit: single POSTs from CONCURRENCY clients while the queue is paused; then the worker
      // drains them. On the empty table once more with the rollup triggers off: their cost.
      const rates = async () => {
        await queue.pause();
        const submitted: string[] = [];
        let next = 0;
        let start = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < TASKS) {
              const i = next++;
              const res = await fetch(`${base}/tasks`, {
                method: 'POST',
                headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
                body: JSON.stringify({ name: 'tasks.system.noop', args: { i } }),
              });
              if (res.status !== 202) throw new Error(`submit gave ${res.status}: ${await res.text()}`);
              submitted.push(((await res.json()) as { id: string }).id);
            }
          }),
        );
        const submitRate = TASKS / ((performance.now() - start) / 1000);
        notified = 0;
        start = performance.now();
        await queue.resume();
        for (let polls = 0; ; polls++) {
          if (notified >= TASKS || polls % 100 === 99) {
            const done = Number(
              (
                await client.query(
                  `SELECT count(*) AS n FROM task_runs WHERE id = ANY($1::uuid[]) AND state = 'SUCCESS'`,
                  [submitted],
                )
              ).rows[0].n,
            );
            if (done >= TASKS) break;
          }
          await sleep(5);
        }
        const finishRate = TASKS / ((performance.now() - start) / 1000);
        return { submitted, submitRate, finishRate };
      };
      const { submitted, submitRate, finishRate } = await rates();
      line(`submit ${fmt(submitRate)} tasks/s (POST /tasks × ${CONCURRENCY}), finish ${fmt(finishRate)} tasks/s`);
      if (size === SIZES[0] && process.env.VOLUME_TRIGGER_COST !== '0') {
        await writerBatchCost(client, database.url, line);
        const triggers = ['task_run_rollups_inserted', 'task_run_rollups_updated'];
        for (const t of triggers) await client.query(`ALTER TABLE task_runs DISABLE TRIGGER ${t}`);
        const off = await rates();
        for (const t of triggers) await client.query(`ALTER TABLE task_runs ENABLE TRIGGER ${t}`);
        const on = await rates();
        line(
          `  rollup triggers off: submit ${fmt(off.submitRate)}, finish ${fmt(off.finishRate)} tasks/s; ` +
            `on again: submit ${fmt(on.submitRate)}, finish ${fmt(on.finishRate)} tasks/s`,
        );
      }

      // GET /tasks, each filter.
      const [{ name: popular }] = (
        await client.query(`SELECT name FROM task_runs GROUP BY name ORDER BY count(*) DESC LIMIT 1`)
      ).rows;
      const prefixName = `${popular.split('.').slice(0, 2).join('.')}.*`;
      const hourAgo2d = new Date(Date.now() - 2 * 24 * 3600_000);
      const window = `from=${hourAgo2d.toISOString()}&to=${new Date(hourAgo2d.getTime() + 3600_000).toISOString()}`;
      const filters: [string, string, string?][] = [
        ['admin, no filter', '/tasks'],
        [`name=${popular}`, `/tasks?name=${popular}`],
        [`name=${prefixName} (prefix)`, `/tasks?name=${encodeURIComponent(prefixName)}`],
        // The old plan's worst case: it walked every record looking for one.
        ['name=tasks.none.* (prefix, no record)', `/tasks?name=${encodeURIComponent('tasks.none.*')}`],
        ['state=FAILURE', '/tasks?state=FAILURE'],
        ['state=PENDING (rare)', '/tasks?state=PENDING'],
        [`name + state=REVOKED`, `/tasks?name=${popular}&state=REVOKED`],
        ['from/to: one hour 2 days ago', `/tasks?${window}`],
        ['parentId', `/tasks?parentId=${ids.parents[7]}`],
        ['client (own tasks)', '/tasks', ids.clientKey],
        ['client + state=FAILURE', '/tasks?state=FAILURE', ids.clientKey],
        ['GET /tasks/:id', `/tasks/${submitted[0]}`],
      ];
      for (const [label, path, key] of filters) {
        const times = await timed(LIST_SAMPLES, () => api.get(path, key));
        line(
          `  GET ${label.padEnd(42)} p50 ${fmt(percentile(times, 50), 1).padStart(7)} ms  p99 ${fmt(percentile(times, 99), 1).padStart(7)} ms`,
        );
      }

      // GET /stats from the rollups, and the scan it replaced.
      for (const minutes of [60, 1440, 10080]) {
        const times = await timed(STATS_SAMPLES, () => api.get(`/stats?windowMinutes=${minutes}`));
        let scan = '';
        if (SCAN_BASELINE) {
          const s0 = performance.now();
          await client.query(SCAN_SQL, [minutes]);
          scan = `  (record scan: ${fmt(performance.now() - s0)} ms)`;
        }
        line(
          `  GET /stats?windowMinutes=${String(minutes).padEnd(6)} p50 ${fmt(percentile(times, 50), 1).padStart(7)} ms  max ${fmt(times[times.length - 1], 1).padStart(7)} ms${scan}`,
        );
      }

      // Query plans of the background scans.
      // GET /tasks's statements as the service builds them (an admin's first page).
      const listPlan = (label: string, query: Partial<ListTasksQuery>): (typeof PLANS)[number] => {
        const { sql, params } = app.get(TaskQueryService).listStatement({ limit: 50, ...query } as ListTasksQuery, {
          keyId: randomUUID(),
          name: 'bench',
          role: 'admin',
        });
        return [label, sql, async () => params];
      };
      const plans = [
        ...PLANS,
        listPlan('GET /tasks?name=tasks.api.* (a frequent prefix)', { name: 'tasks.api.*' }),
        listPlan('GET /tasks?name=tasks.stats.* (a rare prefix)', { name: 'tasks.stats.*' }),
        listPlan('GET /tasks?parentId=…', { parentId: ids.parents[7] }),
      ];
      for (const [label, sql, params] of plans) {
        const plan = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, await params(client))).rows
          .map((r) => r['QUERY PLAN'] as string)
          .filter((l) => !/^\s*(Planning|Buffers: shared hit=\d+$)/.test(l));
        const indexes = [
          ...new Set(plan.flatMap((l) => /Index (?:Only )?Scan(?: Backward)? (?:using|on) (\S+)/.exec(l)?.[1] ?? [])),
        ];
        line(`  plan: ${label}: ${indexes.length > 0 ? `on ${indexes.join(', ')}` : 'NO INDEX'}`);
        for (const l of plan) line(`      ${l}`);
      }

      // Retention: RETENTION_ROWS records of one due day (its partition dropped whole), then as
      // many with callers' ids (the default partition's, deleted one by one).
      for (const callers of [false, true]) {
        await makeSeedPartitions();
        const due = seeded + (callers ? 2_000_000_000 : 1_000_000_000);
        await seedDue(client, due, due + RETENTION_ROWS - 1, tasks, ids, callers);
        await client.query('ANALYZE task_runs');
        const r0 = performance.now();
        await app.get(TaskRetention).expire();
        const passMs = performance.now() - r0;
        const [{ left }] = (
          await client.query(
            `SELECT count(*)::int AS left FROM task_runs WHERE finished_at < now() - make_interval(secs => $1)`,
            [RETENTION_SECONDS],
          )
        ).rows;
        line(
          `  retention pass, ${callers ? "callers' ids, one by one" : 'a due day, its partition dropped'}: ` +
            `${fmt(RETENTION_ROWS)} due records deleted in ${fmt(passMs)} ms (${fmt(RETENTION_ROWS / (passMs / 1000))} rows/s; ${left} left)`,
        );
      }
      console.log('');
    }
    if (process.env.VOLUME_SATURATED !== '0') await saturatedStats(client, api, tasks);
    console.log(`end: ${machineLoad()}`);
  } finally {
    if (worker) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
    }
    await listener.end().catch(() => undefined);
    await client.end().catch(() => undefined);
    await service?.stop();
    await database.release();
    if (KEEP) console.log(`kept ${KEPT_DATABASE} for the next BENCH_VOLUME_KEEP=1 run`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
