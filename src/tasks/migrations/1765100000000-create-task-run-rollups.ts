import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-minute and per-hour rollups of finished tasks, so `GET /stats` reads a few thousand rows
 * whatever the number of records (a scan of 24 h took 5 s at 3M records).
 *
 * One row counts the tasks of one name, queue and state whose `finished_at` falls in the bucket
 * and whose runtime falls in one histogram bucket (`runtime_bucket`, see
 * `task_runtime_bucket`): the counts by state are sums over the histogram, and the percentiles
 * come from its cumulative counts.
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
        runtime_bucket smallint NOT NULL,
        count int NOT NULL,
        retries int NOT NULL,
        PRIMARY KEY (span_minutes, bucket, name, queue, state, runtime_bucket)
      )`);
    // Runtimes below 16 ms are exact; above, 8 buckets per doubling (each about 9% wide, so a
    // percentile read from the midpoint is within 4.5%). A null runtime is bucket -1: counted,
    // but in no percentile, as percentile_cont skips nulls.
    await q.query(`
      CREATE FUNCTION task_runtime_bucket(ms int) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN ms IS NULL THEN -1
                    WHEN ms < 16 THEN greatest(ms, 0)
                    ELSE 16 + floor(8 * log(2, ms / 16.0))::int END::smallint
      $$`);
    // The ORDER BY takes the rows' locks in one order, so two writers finishing tasks of the
    // same minute wait for each other instead of deadlocking.
    const upsert = (source: string) => `
      INSERT INTO task_run_rollups AS r (span_minutes, bucket, name, queue, state, runtime_bucket, count, retries)
      SELECT span.m, date_trunc(CASE span.m WHEN 1 THEN 'minute' ELSE 'hour' END, d.finished_at),
             d.name, d.queue, d.state, task_runtime_bucket(d.runtime_ms), sum(d.n), sum(d.n * greatest(d.attempts - 1, 0))
        FROM (${source}) d CROSS JOIN (VALUES (1::smallint), (60::smallint)) AS span(m)
       GROUP BY 1, 2, 3, 4, 5, 6
      HAVING sum(d.n) <> 0 OR sum(d.n * greatest(d.attempts - 1, 0)) <> 0
       ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (span_minutes, bucket, name, queue, state, runtime_bucket)
      DO UPDATE SET count = r.count + excluded.count, retries = r.retries + excluded.retries`;
    const columns = 'finished_at, name, queue, state, runtime_ms, attempts';
    await q.query(`
      CREATE FUNCTION task_run_rollups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsert(`SELECT ${columns}, 1 AS n FROM new_runs WHERE finished_at IS NOT NULL`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION task_run_rollups_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsert(`SELECT ${columns}, 1 AS n FROM new_runs WHERE finished_at IS NOT NULL
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
    await q.query(upsert(`SELECT ${columns}, 1 AS n FROM task_runs WHERE finished_at >= now() - interval '8 days'`));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER task_run_rollups_updated ON task_runs`);
    await q.query(`DROP TRIGGER task_run_rollups_inserted ON task_runs`);
    await q.query(`DROP FUNCTION task_run_rollups_updated()`);
    await q.query(`DROP FUNCTION task_run_rollups_inserted()`);
    await q.query(`DROP TABLE task_run_rollups`);
    await q.query(`DROP FUNCTION task_runtime_bucket(int)`);
  }
}
