import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-minute and per-hour rollups of finished tasks, so `GET /stats` reads a bounded number of
 * rows whatever the number of records (a scan of 24 h took 5 s at 3M records):
 *   - `task_run_rollups`: how many tasks of one name and queue finished in the bucket in one
 *     state, and the extra attempts they took;
 *   - `task_run_runtime_rollups`: the histogram of their runtimes (`task_runtime_bucket`), from
 *     which the percentiles come. It has no state: the percentiles are over every finished task.
 * Two tables rather than one keyed by state and runtime bucket: the product of both multiplied
 * the rows by the number of states and made the hourly rows of 7 days too many to read quickly.
 *
 * Statement-level triggers with transition tables keep them: every path that writes a record
 * (the worker's batched writer, revoke, retry, a manual UPDATE) is covered, and a batch of a
 * thousand finishes costs one upsert per distinct key instead of one per row. A change to a
 * finished record subtracts its old contribution and adds its new one, so the rollups always
 * equal a scan of the records. Deleting records (retention) leaves them: the statistics of
 * what finished outlive the results, and the rollups have a retention of their own.
 */
export class CreateTaskRunRollups1765100000000 implements MigrationInterface {
  name = 'CreateTaskRunRollups1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE task_run_rollups (
        span_minutes smallint NOT NULL CHECK (span_minutes IN (1, 60)),
        bucket timestamptz NOT NULL,
        name varchar(200) NOT NULL,
        queue varchar(100) NOT NULL,
        state varchar(16) NOT NULL,
        count int NOT NULL,
        retries int NOT NULL,
        PRIMARY KEY (span_minutes, bucket, name, queue, state)
      )`);
    await q.query(`
      CREATE TABLE task_run_runtime_rollups (
        span_minutes smallint NOT NULL CHECK (span_minutes IN (1, 60)),
        bucket timestamptz NOT NULL,
        name varchar(200) NOT NULL,
        queue varchar(100) NOT NULL,
        runtime_bucket smallint NOT NULL,
        count int NOT NULL,
        PRIMARY KEY (span_minutes, bucket, name, queue, runtime_bucket)
      )`);
    // Runtimes below 16 ms are exact; above, 4 buckets per doubling (each about 19% wide, so a
    // percentile read from the midpoint is within 10%), ~100 buckets up to 24 days.
    await q.query(`
      CREATE FUNCTION task_runtime_bucket(ms int) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN ms < 16 THEN greatest(ms, 0)
                    ELSE 16 + floor(4 * log(2, ms / 16.0))::int END::smallint
      $$`);
    // d: (finished_at, name, queue, state, runtime_ms, attempts, n) with n = +1 for a new
    // contribution and -1 for an old one. The ORDER BY takes the rows' locks in one order, so two
    // writers finishing tasks of the same minute wait for each other instead of deadlocking.
    const bucket = `date_trunc(CASE span.m WHEN 1 THEN 'minute' ELSE 'hour' END, d.finished_at)`;
    const spans = `CROSS JOIN (VALUES (1::smallint), (60::smallint)) AS span(m)`;
    const apply = (source: string) => `
      WITH d AS MATERIALIZED (${source}),
      counts AS (
        INSERT INTO task_run_rollups AS r (span_minutes, bucket, name, queue, state, count, retries)
        SELECT span.m, ${bucket}, d.name, d.queue, d.state, sum(d.n), sum(d.n * greatest(d.attempts - 1, 0))
          FROM d ${spans}
         GROUP BY 1, 2, 3, 4, 5
        HAVING sum(d.n) <> 0 OR sum(d.n * greatest(d.attempts - 1, 0)) <> 0
         ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (span_minutes, bucket, name, queue, state)
        DO UPDATE SET count = r.count + excluded.count, retries = r.retries + excluded.retries
      )
      INSERT INTO task_run_runtime_rollups AS r (span_minutes, bucket, name, queue, runtime_bucket, count)
      SELECT span.m, ${bucket}, d.name, d.queue, task_runtime_bucket(d.runtime_ms), sum(d.n)
        FROM d ${spans}
       WHERE d.runtime_ms IS NOT NULL
       GROUP BY 1, 2, 3, 4, 5
      HAVING sum(d.n) <> 0
       ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (span_minutes, bucket, name, queue, runtime_bucket) DO UPDATE SET count = r.count + excluded.count`;
    const columns = 'finished_at, name, queue, state, runtime_ms, attempts';
    await q.query(`
      CREATE FUNCTION task_run_rollups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${apply(`SELECT ${columns}, 1 AS n FROM new_runs WHERE finished_at IS NOT NULL`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION task_run_rollups_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${apply(`SELECT ${columns}, 1 AS n FROM new_runs WHERE finished_at IS NOT NULL
                 UNION ALL
                 SELECT ${columns}, -1 AS n FROM old_runs WHERE finished_at IS NOT NULL`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER task_run_rollups_inserted AFTER INSERT ON task_runs
        REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION task_run_rollups_inserted()`);
    await q.query(`
      CREATE TRIGGER task_run_rollups_updated AFTER UPDATE ON task_runs
        REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs
        FOR EACH STATEMENT EXECUTE FUNCTION task_run_rollups_updated()`);
    // Records finished before this migration, as far back as the rollups are kept
    // (ROLLUP_RETENTION_DAYS).
    await q.query(apply(`SELECT ${columns}, 1 AS n FROM task_runs WHERE finished_at >= now() - interval '8 days'`));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER task_run_rollups_updated ON task_runs`);
    await q.query(`DROP TRIGGER task_run_rollups_inserted ON task_runs`);
    await q.query(`DROP FUNCTION task_run_rollups_updated()`);
    await q.query(`DROP FUNCTION task_run_rollups_inserted()`);
    await q.query(`DROP TABLE task_run_runtime_rollups`);
    await q.query(`DROP TABLE task_run_rollups`);
    await q.query(`DROP FUNCTION task_runtime_bucket(int)`);
  }
}
