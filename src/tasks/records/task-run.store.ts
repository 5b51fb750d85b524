import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityNotFoundError, In, IsNull, LessThan, Not } from 'typeorm';
import { TaskError, TaskRun } from './entities/task-run.entity';
import { FINISHED_CHANNEL } from './task-completions.service';
import { FINAL_STATES, OPEN_STATES, TaskState } from '../task-state';

/** A record found by id, with what a caller that lost its outcome needs to learn it again. */
export type KnownRun = Pick<TaskRun, 'id' | 'state' | 'result' | 'error'>;

/** A place in the order records finished in: after the record `id` that finished at `finishedAt`. */
export interface FinishedPosition {
  finishedAt: Date;
  id: string;
}

/**
 * Every statement the platform's machinery runs on `task_runs`: the submit's insert, the queued
 * mark, the outbox's and the reconciler's scans, the worker's batch update, revocation and
 * retention. (The REST API's list filters live in TaskQueryService, the statistics read the
 * rollups.) Statements that take part in a caller's transaction take its `EntityManager`.
 *
 * States are written into the SQL text, not bound: the partial indexes (`task_runs_open`,
 * `task_runs_outbox`) only serve a query whose predicate names the same literals.
 */
@Injectable()
export class TaskRunStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts records in one statement with a single JSON parameter (TypeORM's multi-row insert
   * builder spends more CPU binding parameters than the database spends writing). Rows that hit
   * a unique key (an idempotency key already used) are skipped; returns the records written.
   */
  async insert(runs: TaskRun[]): Promise<TaskRun[]> {
    const rows: { id: string }[] = await this.dataSource.query(INSERT_SQL, [JSON.stringify(runs)]);
    if (rows.length === runs.length) return runs;
    const written = new Set(rows.map((r) => r.id));
    return runs.filter((r) => written.has(r.id));
  }

  /** The record an idempotency key of `owner` created. */
  async findByIdempotencyKey(owner: string | null, idempotencyKey: string): Promise<TaskRun> {
    const [claim]: { taskId: string }[] = await this.dataSource.query(
      `SELECT task_id AS "taskId" FROM task_idempotency_keys WHERE owner = $1 AND idempotency_key = $2`,
      [owner ?? NIL_UUID, idempotencyKey],
    );
    if (!claim) throw new EntityNotFoundError(TaskRun, { owner, idempotencyKey });
    return this.findById(claim.taskId);
  }

  findById(id: string): Promise<TaskRun> {
    return this.repository().findOneByOrFail({ id });
  }

  /** The record `id`, or null when there is none. */
  find(id: string): Promise<TaskRun | null> {
    return this.repository().findOneBy({ id });
  }

  /** The records of `ids` that exist, by id, with their state and outcome. */
  async knownRuns(ids: string[]): Promise<Map<string, KnownRun>> {
    const rows: KnownRun[] = await this.dataSource.query(
      `SELECT id, state, result, error FROM task_runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Which of `ids` were submitted with a request id starting with `prefix` (an ingress's own tasks). */
  async idsWithRequestPrefix(ids: string[], prefix: string): Promise<Set<string>> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM task_runs WHERE id = ANY($1::uuid[]) AND request_id LIKE $2`,
      [ids, `${prefix}%`],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Records submitted with a request id starting with `prefix` that finished after `after` (a
   * keyset position: a finish time and the id last seen there) and by `upTo`, in that order, with
   * when they finished (on `task_runs_finished`). One worker batch shares one finish time, hence
   * the id in the position.
   */
  finishedWithRequestPrefix(
    prefix: string,
    after: FinishedPosition,
    upTo: Date,
    limit: number,
  ): Promise<(KnownRun & { finishedAt: Date })[]> {
    return this.dataSource.query(
      `SELECT id, state, result, error, finished_at AS "finishedAt" FROM task_runs
        WHERE finished_at >= $1 AND (finished_at, id) > ($1, $2::uuid) AND finished_at <= $3 AND request_id LIKE $4
        ORDER BY finished_at, id LIMIT $5`,
      [after.finishedAt, after.id, upTo, `${prefix}%`, limit],
    );
  }

  /** Marks records queued (their jobs reached the transport). */
  async markQueued(ids: string[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query('UPDATE task_runs SET enqueued_at = now() WHERE id = ANY($1::uuid[])', [ids]);
  }

  /**
   * Clears the queued mark of records still `PENDING`: their jobs did not reach the transport, so
   * they go back to the outbox. A job that ran meanwhile keeps its mark.
   */
  async clearQueuedMark(ids: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE task_runs SET enqueued_at = NULL WHERE id = ANY($1::uuid[]) AND state = '${TaskState.PENDING}'`,
      [ids],
    );
  }

  /** Clears the queued mark of one record whatever its state (a requeue the transport did not take). */
  async unmarkQueued(id: string): Promise<void> {
    await this.repository().update(id, { enqueuedAt: null });
  }

  /**
   * The outbox's next batch: `PENDING` records never queued, created before `cutoff`, oldest
   * first, locked for the caller's transaction (rows another enqueuer holds are skipped).
   */
  lockOutboxBatch(manager: EntityManager, cutoff: Date, limit: number): Promise<TaskRun[]> {
    return manager
      .getRepository(TaskRun)
      .createQueryBuilder('t')
      .where('t.enqueued_at IS NULL')
      .andWhere(`t.state = '${TaskState.PENDING}'`)
      .andWhere('t.created_at <= :cutoff', { cutoff })
      .orderBy('t.created_at', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
  }

  /** How many records wait in the outbox and how long the oldest has waited. */
  async outboxBacklog(): Promise<{ pending: number; oldestSeconds: number }> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float AS oldest
         FROM task_runs WHERE enqueued_at IS NULL AND state = '${TaskState.PENDING}'`,
    );
    return { pending: row.pending, oldestSeconds: row.oldest };
  }

  /** Open records that were queued and have not changed since `cutoff`, least recently touched first. */
  findStaleOpen(manager: EntityManager, cutoff: Date, limit: number): Promise<TaskRun[]> {
    return manager.getRepository(TaskRun).find({
      where: { state: In([...OPEN_STATES]), updatedAt: LessThan(cutoff), enqueuedAt: Not(IsNull()) },
      order: { updatedAt: 'ASC' },
      take: limit,
    });
  }

  /** The current state of one record, read within the caller's transaction. */
  async stateOf(manager: EntityManager, id: string): Promise<TaskState> {
    const [{ state }] = await manager.query('SELECT state FROM task_runs WHERE id = $1', [id]);
    return state;
  }

  /** Sets `updated_at` of the records still open, so a scan by it moves on to others. */
  async touchOpen(manager: EntityManager, ids: string[]): Promise<void> {
    await manager
      .getRepository(TaskRun)
      .update({ id: In(ids), state: In([...OPEN_STATES]) }, { updatedAt: new Date() });
  }

  /** Resets a finished record for a fresh set of attempts under the same id. */
  async resetForRetry(id: string, now: Date): Promise<void> {
    await this.repository().update(id, {
      state: TaskState.PENDING,
      attempts: 0,
      error: null,
      result: () => 'NULL',
      progress: () => 'NULL',
      startedAt: null,
      finishedAt: null,
      runtimeMs: null,
      runAt: now,
      updatedAt: now,
    });
  }

  /** Marks the open records of `ids` REVOKED with `error`; returns the ids it changed. */
  async markRevoked(ids: string[], error: TaskError): Promise<string[]> {
    // TypeORM returns [rows, count] for an UPDATE.
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE task_runs SET state = '${TaskState.REVOKED}', error = $2, finished_at = now(), updated_at = now()
       WHERE id = ANY($1::uuid[]) AND state IN (${sqlList(OPEN_STATES)}) RETURNING id`,
      [ids, error],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Deletes up to `limit` finished records that finished before `cutoff` and that no partition
   * drop will take, in the caller's transaction; returns how many went. Those are the records of
   * the default partition (the ids callers chose, and those written before the partitions), and
   * those below `keptFrom`, the first id of the first day whose partition is not due yet: a due
   * partition that still holds open tasks is kept (`TaskRunPartitions`), the rest of its records
   * go one by one. Domain records that reference `task_runs` with ON DELETE CASCADE go with them.
   */
  async deleteFinishedBefore(manager: EntityManager, cutoff: Date, keptFrom: string, limit: number): Promise<number> {
    const finished = `finished_at < $1 AND state IN (${sqlList(FINAL_STATES)})`;
    const [, fromDefault]: [unknown, number] = await manager.query(
      `DELETE FROM task_runs_default WHERE id IN (SELECT id FROM task_runs_default WHERE ${finished} LIMIT ${limit})`,
      [cutoff],
    );
    if (fromDefault === limit) return fromDefault;
    // Pruned to the due partitions (and the default one) by the id bound.
    const [, fromDue]: [unknown, number] = await manager.query(
      `DELETE FROM task_runs WHERE id IN (SELECT id FROM task_runs WHERE id < $2 AND ${finished} LIMIT ${limit - fromDefault})`,
      [cutoff, keptFrom],
    );
    return fromDefault + fromDue;
  }

  /** Deletes the rollup rows of span `spanMinutes` older than `days` (the triggers on `task_runs` fill them). */
  async deleteRollupsOlderThan(spanMinutes: number, days: number): Promise<void> {
    for (const table of ['task_run_rollups', 'task_run_runtime_rollups'])
      await this.dataSource.query(
        `DELETE FROM ${table} WHERE span_minutes = $1 AND bucket < now() - make_interval(days => $2)`,
        [spanMinutes, days],
      );
  }

  private repository() {
    return this.dataSource.getRepository(TaskRun);
  }
}

/** The idempotency keys' scope for records without an owner. */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

function sqlList(states: readonly TaskState[]): string {
  return states.map((state) => `'${state}'`).join(', ');
}

// The records of one batch share a millisecond; a microsecond per position keeps their order in
// created_at, which the outbox queues by. An idempotency key is claimed in its own table (a unique
// index on the partitioned task_runs could only be unique per partition): a record whose key was
// taken, by an earlier submit or by one before it in this batch, is not written.
const INSERT_SQL = `
  WITH input AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id uuid, name varchar, queue varchar, owner uuid,
         args jsonb, state varchar, attempts int, "maxAttempts" int, priority int, "timeoutMs" int,
         "runAt" timestamptz, "createdAt" timestamptz, "updatedAt" timestamptz, "enqueuedAt" timestamptz,
         "parentId" uuid, "idempotencyKey" varchar, "requestId" varchar)) WITH ORDINALITY AS r(id, name, queue,
         owner, args, state, attempts, "maxAttempts", priority, "timeoutMs", "runAt", "createdAt", "updatedAt",
         "enqueuedAt", "parentId", "idempotencyKey", "requestId", ord)
  ), claimed AS (
    INSERT INTO task_idempotency_keys (owner, idempotency_key, task_id)
    SELECT COALESCE(owner, '${NIL_UUID}'), "idempotencyKey", id FROM input WHERE "idempotencyKey" IS NOT NULL ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING task_id
  )
  INSERT INTO task_runs (id, name, queue, owner, args, state, attempts, max_attempts, priority, timeout_ms,
                         run_at, created_at, updated_at, enqueued_at, parent_id, idempotency_key, request_id)
  SELECT id, name, queue, owner, args, state, attempts, "maxAttempts", priority, "timeoutMs",
         "runAt", "createdAt" + (ord - 1) * interval '1 microsecond', "updatedAt", "enqueuedAt", "parentId",
         "idempotencyKey", "requestId"
  FROM input
  WHERE "idempotencyKey" IS NULL OR id IN (SELECT task_id FROM claimed)
  ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id`;

/**
 * The record writer's batch update (TaskRecordWriter runs it on its own connection, whose
 * planner settings it needs): `$1` is a JSON array of `{ id, ...TaskRunPatch }`.
 *
 * A REVOKED record stays REVOKED: a late write from the worker that held it must not revive it.
 * A SUCCESS or FAILURE record takes no open state (STARTED, RETRY) and no progress: such a write
 * is stale, e.g. the RETRY one worker queued while the database was down, committed after another
 * worker's run of the same job had already finished it. Nor does it take a second outcome: a job
 * that runs again after its lock or its completion was lost (a Redis failover) keeps the outcome
 * of its first run, recorded once. (POST /tasks/:id/retry resets the record to PENDING itself,
 * before the new run writes anything.)
 * enqueued_at keeps its first value: a job that runs was queued, whoever marks it first.
 * The ids that reached a final state are notified on commit (in groups, as NOTIFY payloads are
 * capped at 8000 bytes) so callers waiting on GET /tasks/:id?wait= wake at once.
 */
export const WORKER_PATCH_SQL = `
  WITH updated AS (
    UPDATE task_runs t SET
      state       = COALESCE(d->>'state', t.state),
      attempts    = COALESCE((d->>'attempts')::int, t.attempts),
      worker_id   = COALESCE(d->>'workerId', t.worker_id),
      started_at  = COALESCE((d->>'startedAt')::timestamptz, t.started_at),
      finished_at = CASE WHEN d ? 'finishedAt' THEN (d->>'finishedAt')::timestamptz ELSE t.finished_at END,
      runtime_ms  = COALESCE((d->>'runtimeMs')::int, t.runtime_ms),
      run_at      = COALESCE((d->>'runAt')::timestamptz, t.run_at),
      enqueued_at = COALESCE(t.enqueued_at, (d->>'enqueuedAt')::timestamptz),
      progress    = CASE WHEN d ? 'progress' THEN d->'progress' ELSE t.progress END,
      result      = CASE WHEN d ? 'result' THEN d->'result' ELSE t.result END,
      error       = CASE WHEN d ? 'error' THEN NULLIF(d->'error', 'null'::jsonb) ELSE t.error END,
      updated_at  = now()
    FROM jsonb_array_elements($1::jsonb) AS d
    WHERE t.id = (d->>'id')::uuid AND (t.state <> '${TaskState.REVOKED}' OR d->>'state' = '${TaskState.REVOKED}')
      AND (t.state NOT IN ('${TaskState.SUCCESS}', '${TaskState.FAILURE}') OR d->>'state' = '${TaskState.REVOKED}')
    RETURNING t.id, t.state
  ), finished AS (
    SELECT id::text AS id, (row_number() OVER ()) / 150 AS grp FROM updated WHERE state IN (${sqlList(FINAL_STATES)})
  )
  SELECT pg_notify('${FINISHED_CHANNEL}', string_agg(id, ',')) FROM finished GROUP BY grp`;
