/**
 * Seeding `task_runs` for bench:volume: finished records written by SQL (generate_series), and
 * the database they live in, thrown away after the run or kept for the next one.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ROLLUP_RETENTION_DAYS } from '../src/tasks/records/task-statistics.service';
import { fmt, PG_ADMIN_URL } from './support';

export const RETENTION_SECONDS = 7 * 24 * 3600;
const OWNERS = 20;
const PARENTS = 1000;
const SEED_CHUNK = 1_000_000;

export interface SeedIds {
  client: string;
  clientKey: string;
  owners: string[];
  parents: string[];
}

export interface DeclaredTask {
  name: string;
  queue: string;
}

/**
 * When a record was created: over the retention window, or past it (due for retention): over the
 * whole UTC day before the window's first, so that its daily partition is due as a whole.
 */
const CREATED = {
  window: `$9::timestamptz - make_interval(secs => 3600 + random() * ($5 - 7200))`,
  due: `date_trunc('day', $9::timestamptz - make_interval(secs => $5) - interval '1 day', 'UTC') + random() * interval '1 day'`,
};

// One finished record per g. A task's runtime is log-normal around its own median (1 ms to
// ~10 s across tasks); names are skewed (the first few take most records). Every 20th record
// is the measured client's ($6), every 100th has one of $8 parents. $9 is "now", so a seed
// is reproducible under setseed().
function insertSql(created: keyof typeof CREATED, callers = false): string {
  return `
  WITH src AS (
    SELECT g, 1 + floor(power(random(), 3) * array_length($3::text[], 1))::int AS k, random() AS r,
           ${CREATED[created]} AS created
      FROM generate_series($1::bigint, $2::bigint) g
  ), run AS (
    SELECT g, k, created, ($3::text[])[k] AS name, ($4::text[])[k] AS queue,
           CASE WHEN r < 0.9 THEN 'SUCCESS' WHEN r < 0.97 THEN 'FAILURE' ELSE 'REVOKED' END AS state,
           CASE WHEN r < 0.85 THEN 1 WHEN r < 0.9 THEN 2 ELSE 3 END AS attempts,
           greatest(1, exp(ln(2) * (k % 14) + 0.6 * sqrt(-2 * ln(greatest(random(), 1e-9))) * cos(2 * pi() * random())))::int AS runtime
      FROM src
  ), ins AS (
  INSERT INTO task_runs (id, name, queue, owner, args, state, result, error, attempts, max_attempts, priority,
                         run_at, created_at, updated_at, enqueued_at, started_at, finished_at, runtime_ms,
                         worker_id, parent_id, request_id)
  -- ids as the service makes them, a UUIDv7 of the creation time (src/common/uuid-v7.ts), or
  -- as Celery callers bring them (uuid4)
  SELECT ${
    callers
      ? 'gen_random_uuid()'
      : `overlay(overlay(replace(gen_random_uuid()::text, '-', '')
                         placing lpad(to_hex((extract(epoch FROM created) * 1000)::bigint), 12, '0') from 1 for 12)
                 placing '7' from 13 for 1)::uuid`
  }, name, queue,
         CASE WHEN g % 20 = 0 THEN $6::uuid ELSE ($7::uuid[])[1 + g % ${OWNERS}] END,
         jsonb_build_object('i', g, 'ref', md5(g::text), 'note', repeat('x', (g % 160)::int)),
         state,
         CASE WHEN state = 'SUCCESS' THEN jsonb_build_object('ok', true, 'count', g % 1000, 'digest', md5(name || g)) END,
         CASE WHEN state = 'FAILURE' THEN jsonb_build_object('type', 'TimeoutError', 'message', 'upstream timed out after 30 s') END,
         attempts, 3, 0, created, created, created + make_interval(secs => runtime / 1000.0 + 0.01), created,
         created + interval '5 ms', created + make_interval(secs => runtime / 1000.0 + 0.005), runtime,
         'worker-' || (g % 6), CASE WHEN g % 100 = 0 THEN ($8::uuid[])[1 + (g / 100) % ${PARENTS}] END, md5(g::text)
    FROM run
  RETURNING finished_at, name, queue, state, runtime_ms, attempts)`;
}

/** Records [from, to] through the rollup triggers, as any writer adds them. */
export const SEED_THROUGH_TRIGGERS_SQL = (created: keyof typeof CREATED, callers = false) =>
  `${insertSql(created, callers)} SELECT count(*) FROM ins`;

// With the triggers off: each chunk's records summed per minute into ROLLUP_PARTS instead,
// folded into the rollups once at the end (see foldRollupParts). By runtime, not runtime bucket:
// task_runtime_bucket's numeric log() per row took a quarter of the chunk's time.
const ROLLUP_PARTS = 'bench_seed_rollup_parts';
const SEED_TO_PARTS_SQL = `${insertSql('window')}
  INSERT INTO ${ROLLUP_PARTS}
  SELECT date_trunc('minute', finished_at), name, queue, state, runtime_ms, count(*), sum(greatest(attempts - 1, 0))
    FROM ins WHERE finished_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5`;

/** The seed statements' parameters ($1–$9) for records [from, to]. */
export function seedParams(from: number, to: number, tasks: DeclaredTask[], ids: SeedIds, now: Date) {
  return [
    from,
    to,
    tasks.map((t) => t.name),
    tasks.map((t) => t.queue),
    RETENTION_SECONDS,
    ids.client,
    ids.owners,
    ids.parents,
    now,
  ];
}

export const newSeedIds = (client: string, clientKey: string, uuid: () => string): SeedIds => ({
  client,
  clientKey,
  owners: Array.from({ length: OWNERS }, uuid),
  parents: Array.from({ length: PARENTS }, uuid),
});

/**
 * Records [from, to] past the retention period, through the triggers (a retention pass deletes
 * them): with the service's ids, or (`callers`) with uuid4s as Celery callers bring them.
 */
export async function seedDue(
  client: Client,
  from: number,
  to: number,
  tasks: DeclaredTask[],
  ids: SeedIds,
  callers = false,
) {
  await client.query(SEED_THROUGH_TRIGGERS_SQL('due', callers), seedParams(from, to, tasks, ids, new Date()));
}

/**
 * Seeds records [from, to], several times quicker than through the triggers and indexes:
 *   - the secondary indexes and the primary key (with the foreign keys that need it) are
 *     dropped and built again after (on every partition): a sort per index instead of a random
 *     b-tree insert per row and index. The partial indexes no finished record enters (outbox,
 *     open) stay, so the running service's passes stay on them;
 *   - `session_replication_role = replica` turns the rollup triggers off for this session.
 *     The triggers' per-statement upsert of every (minute, name, state, runtime bucket) a chunk
 *     touches took 60% of the time; instead each chunk's records are summed per minute into an
 *     unlogged table and folded into the rollups once, by the triggers' own arithmetic.
 * `onChunk` reports progress. `now` (tests) makes a seed reproducible with setseed().
 */
export async function seedRecords(
  client: Client,
  from: number,
  to: number,
  tasks: DeclaredTask[],
  ids: SeedIds,
  options: { onChunk?: (end: number) => void; onStep?: (step: string, ms: number) => void; now?: () => Date } = {},
) {
  const now = options.now ?? (() => new Date());
  let t0 = performance.now();
  const step = (label: string) => {
    options.onStep?.(label, performance.now() - t0);
    t0 = performance.now();
  };
  const indexes: { name: string; def: string }[] = (
    await client.query(
      `SELECT indexname AS name, replace(indexdef, ' ON ONLY ', ' ON ') AS def FROM pg_indexes
                         WHERE tablename = 'task_runs' AND indexname <> 'task_runs_pkey' AND indexdef !~ $1`,
      [`'PENDING'`],
    )
  ).rows;
  // The partitioned table's own foreign keys (each partition has a copy, made with them).
  const foreignKeys: { tbl: string; name: string; def: string }[] = (
    await client.query(`SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
                          FROM pg_constraint WHERE confrelid = 'task_runs'::regclass AND contype = 'f' AND conparentid = 0`)
  ).rows;
  await client.query(`SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'; SET synchronous_commit = off`);
  await client.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ${ROLLUP_PARTS} (
                        minute timestamptz, name text, queue text, state text, runtime_ms int,
                        count bigint, retries bigint)`);
  await client.query(`TRUNCATE ${ROLLUP_PARTS}`);
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  await client.query(`ALTER TABLE task_runs DROP CONSTRAINT task_runs_pkey CASCADE`);
  await client.query(`SET session_replication_role = replica`);
  try {
    for (let start = from; start <= to; start += SEED_CHUNK) {
      const end = Math.min(to, start + SEED_CHUNK - 1);
      await client.query(SEED_TO_PARTS_SQL, seedParams(start, end, tasks, ids, now()));
      options.onChunk?.(end);
    }
  } finally {
    await client.query(`RESET session_replication_role`);
  }
  step('inserts');
  await client.query(`ALTER TABLE task_runs ADD CONSTRAINT task_runs_pkey PRIMARY KEY (id)`);
  step('task_runs_pkey');
  for (const index of indexes) {
    await client.query(index.def);
    step(index.name);
  }
  for (const fk of foreignKeys) await client.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.name} ${fk.def}`);
  step('foreign keys');
  await foldRollupParts(client);
  step('rollups');
  await client.query(`DROP TABLE ${ROLLUP_PARTS}`);
  await client.query(`RESET maintenance_work_mem; RESET work_mem; RESET synchronous_commit`);
}

/**
 * The rollups of the seeded records: one aggregate per span and table, added to what is there
 * as the triggers add (same buckets, counts and retries; runtime rows only for a runtime).
 * Per-minute rows past their retention are left out: the retention pass would delete them.
 */
async function foldRollupParts(client: Client) {
  for (const span of [1, 60]) {
    const bucket = span === 1 ? 'minute' : `date_trunc('hour', minute)`;
    const kept = span === 1 ? `minute >= now() - make_interval(days => ${ROLLUP_RETENTION_DAYS.minutely})` : 'true';
    await client.query(`
      INSERT INTO task_run_rollups AS r (span_minutes, bucket, name, queue, state, count, retries)
      SELECT ${span}, ${bucket}, name, queue, state, sum(count), sum(retries)
        FROM ${ROLLUP_PARTS} WHERE ${kept} GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5
      ON CONFLICT (span_minutes, bucket, name, queue, state)
      DO UPDATE SET count = r.count + excluded.count, retries = r.retries + excluded.retries`);
    // The bucket once per distinct runtime, not per record (MATERIALIZED: inlined, the planner
    // computes it per joined row).
    await client.query(`
      WITH runtime AS MATERIALIZED (SELECT ms, task_runtime_bucket(ms) AS bucket
                         FROM (SELECT DISTINCT runtime_ms AS ms FROM ${ROLLUP_PARTS} WHERE runtime_ms IS NOT NULL) d)
      INSERT INTO task_run_runtime_rollups AS r (span_minutes, bucket, name, queue, runtime_bucket, count)
      SELECT ${span}, ${bucket}, p.name, p.queue, runtime.bucket, sum(p.count)
        FROM ${ROLLUP_PARTS} p JOIN runtime ON runtime.ms = p.runtime_ms WHERE ${kept}
       GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5
      ON CONFLICT (span_minutes, bucket, name, queue, runtime_bucket) DO UPDATE SET count = r.count + excluded.count`);
  }
}

/** The run's database: a throwaway one, or (keep) the one a previous run left, with what it holds. */
export interface VolumeDatabase {
  url: string;
  /** Records seeded so far and the ids they were seeded with (none in a new database). */
  seeded: { count: number; ids: SeedIds } | null;
  /** Records that the seeded ones are now [1, count], seeded with ids. */
  markSeeded(client: Client, count: number, ids: SeedIds): Promise<void>;
  /** Before seeding: a run killed while seeding leaves the database to be made again. */
  markSeeding(client: Client): Promise<void>;
  release(): Promise<void>;
}

export const KEPT_DATABASE = 'tasks_bench_volume_kept';

export async function openVolumeDatabase(keep: boolean): Promise<VolumeDatabase> {
  const name = keep ? KEPT_DATABASE : `tasks_bench_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let seeded: VolumeDatabase['seeded'] = null;
  try {
    const exists = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])).rowCount! > 0;
    if (exists && keep) seeded = await readSeedState(url.toString());
    if (exists && !seeded) await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    if (!seeded) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const state = `CREATE TABLE IF NOT EXISTS bench_volume_seed (
                   one boolean PRIMARY KEY DEFAULT true CHECK (one), complete boolean NOT NULL,
                   seeded bigint NOT NULL DEFAULT 0, ids jsonb)`;
  return {
    url: url.toString(),
    seeded,
    markSeeding: async (client) => {
      await client.query(state);
      await client.query(`INSERT INTO bench_volume_seed (complete) VALUES (false)
                          ON CONFLICT (one) DO UPDATE SET complete = false`);
    },
    markSeeded: async (client, count, ids) => {
      await client.query(state);
      await client.query(
        `INSERT INTO bench_volume_seed (complete, seeded, ids) VALUES (true, $1, $2)
         ON CONFLICT (one) DO UPDATE SET complete = true, seeded = $1, ids = $2`,
        [count, JSON.stringify(ids)],
      );
    },
    release: async () => {
      if (keep) return;
      const client = new Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function readSeedState(url: string): Promise<VolumeDatabase['seeded']> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const rows = (
      await client.query(`SELECT seeded, ids FROM bench_volume_seed WHERE complete`).catch(() => ({ rows: [] }))
    ).rows as { seeded: string; ids: SeedIds }[];
    return rows.length && rows[0].ids ? { count: Number(rows[0].seeded), ids: rows[0].ids } : null;
  } finally {
    await client.end();
  }
}

export const seedProgress = (end: number) => process.stdout.write(`  seeded ${fmt(end)}\r`);
