import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OPEN_STATES } from '../task-state';

export const DAY_MS = 86_400_000;
/** How many days ahead partitions are made, so midnight never finds its day without one. */
export const DAYS_AHEAD = 2;
/** A day with more records than this in the default partition is left there (see {@link TaskRunPartitions.ensure}). */
const MAX_STRAYS = 100;
/** DDL that waits longer than this for its lock gives up and tries again on the next pass. */
const LOCK_TIMEOUT = '5s';

/** One day partition of `task_runs`: the ids in [from, to). */
export interface DayPartition {
  name: string;
  day: number;
  from: string;
  to: string;
}

/** The first UUIDv7 of Unix millisecond `ms` (every other bit zero): a day's lower bound. */
export function firstIdAt(ms: number): string {
  const hex = Math.floor(ms).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** The UTC midnight at or before `ms`. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The UUID right after `id` (bounds are inclusive-exclusive: [next(id), …) leaves `id` out). */
function nextId(id: string): string {
  const hex = (BigInt(`0x${id.replace(/-/g, '')}`) + 1n).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Runs `work` in a transaction of its own; null when it did not run (another replica's turn). */
export type Transact = <T>(work: (manager: EntityManager) => Promise<T>) => Promise<T | null>;

/** The prefix of the default partition's CHECK constraints that keep day partition `name`'s ranges out of it. */
function exclusions(name: string): string {
  return name.replace('task_runs_', 'task_runs_default_excludes_');
}

function exclusion(name: string, i: number): string {
  return `${exclusions(name)}_${i}`;
}

function dayName(day: number): string {
  return `task_runs_${new Date(day).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

const PARTITION_NAME = /^task_runs_(\d{4})(\d{2})(\d{2})(?:_\d+)?$/;
const BOUNDS = /FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)/;

/**
 * The daily partitions of `task_runs` (see the migration `PartitionTaskRuns1765300000000`):
 * day D holds the ids from the first UUIDv7 of D's midnight (UTC) to the next one's, so a task
 * lands in the partition of the day it was created. Retention then drops a whole day at once
 * once every record in it has expired, instead of deleting the records one by one.
 *
 * Callers' own ids (Celery's uuid4s) are random: nearly all fall outside every day's range and
 * live in the default partition, deleted one by one as before. The few that fall inside a day
 * that already has its partition live there, and keep it until they have expired too.
 *
 * Each step runs in a transaction of the caller's, which holds TaskRetention's advisory lock.
 */
@Injectable()
export class TaskRunPartitions {
  private readonly logger = new Logger(TaskRunPartitions.name);

  /** The day partitions, oldest first. */
  async list(manager: EntityManager): Promise<DayPartition[]> {
    const rows: { name: string; bound: string }[] = await manager.query(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'task_runs'::regclass`,
    );
    const partitions: DayPartition[] = [];
    for (const { name, bound } of rows) {
      const day = PARTITION_NAME.exec(name);
      const range = BOUNDS.exec(bound);
      if (!day || !range) continue;
      partitions.push({ name, day: Date.UTC(+day[1], +day[2] - 1, +day[3]), from: range[1], to: range[2] });
    }
    return partitions.sort((a, b) => a.from.localeCompare(b.from));
  }

  /**
   * Makes the partition of day `day` (a UTC midnight) unless it has one; returns the tables made.
   * `transact` runs each step in its own transaction (TaskRetention's hold its advisory lock).
   *
   * Attaching a partition next to a default one scans the default partition for rows of the new
   * range under an ACCESS EXCLUSIVE lock, which would stop every statement that reads it (the
   * record writer's batch update, the lists) for as long as the scan takes. So, as PostgreSQL's
   * documentation advises, the default partition first gets a CHECK constraint that excludes the
   * range, validated in a transaction of its own (that scan blocks no one), and the attach then
   * skips its scan; the constraint is dropped after.
   *
   * The default partition may hold rows of the range already: a caller's id that happened to
   * fall in it (about 3 in 10 million uuid4s per day). The day is then cut into ranges around
   * those ids, which stay where they are. Records of our own (UUIDv7) there mean the day was
   * written before it had a partition (the service ran without this pass): it stays there.
   */
  async ensure(transact: Transact, day: number): Promise<string[]> {
    const name = dayName(day);
    const ranges = await transact(async (manager) => {
      if ((await this.list(manager)).some((p) => p.day === day)) return [];
      // What a step that failed or crashed left: the ranges are worked out again.
      for (const check of await this.exclusionsLeft(manager, name))
        await manager.query(`ALTER TABLE task_runs_default DROP CONSTRAINT ${check}`);
      const planned = await this.plan(manager, day, name);
      await manager.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      for (const [i, [lower, upper]] of planned.entries())
        await manager.query(
          `ALTER TABLE task_runs_default ADD CONSTRAINT ${exclusion(name, i)}
             CHECK ((id >= '${lower}' AND id < '${upper}') IS FALSE) NOT VALID`,
        );
      return planned;
    });
    if (!ranges?.length) return [];
    for (const i of ranges.keys())
      await transact((manager) =>
        manager.query(`ALTER TABLE task_runs_default VALIDATE CONSTRAINT ${exclusion(name, i)}`),
      );
    return (
      (await transact(async (manager) => {
        if ((await this.list(manager)).some((p) => p.day === day)) return [];
        await manager.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        const made: string[] = [];
        for (const [i, [lower, upper]] of ranges.entries()) {
          const table = i === 0 ? name : `${name}_${i}`;
          // Made apart and then attached: attaching takes a weaker lock on task_runs than
          // CREATE TABLE … PARTITION OF, so submits and reads go on meanwhile.
          await manager.query(`CREATE TABLE ${table} (LIKE task_runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
          await manager.query(
            `ALTER TABLE task_runs ATTACH PARTITION ${table} FOR VALUES FROM ('${lower}') TO ('${upper}')`,
          );
          await manager.query(`ALTER TABLE task_runs_default DROP CONSTRAINT ${exclusion(name, i)}`);
          made.push(table);
        }
        return made;
      })) ?? []
    );
  }

  /** The ranges day `day` is made of, around the callers' ids in the default partition; none to leave it there. */
  private async plan(manager: EntityManager, day: number, name: string): Promise<[string, string][]> {
    const from = firstIdAt(day);
    const to = firstIdAt(day + DAY_MS);
    const strays: string[] = (
      await manager.query(
        `SELECT id FROM task_runs_default WHERE id >= $1 AND id < $2 ORDER BY id LIMIT ${MAX_STRAYS + 1}`,
        [from, to],
      )
    ).map((r: { id: string }) => r.id);
    if (strays.length > MAX_STRAYS || strays.some((id) => id[14] === '7')) {
      this.logger.warn(`${name}: records of that day are in the default partition already; the day stays there`);
      return [];
    }
    const ranges: [string, string][] = [];
    let start = from;
    for (const stray of strays) {
      if (stray > start) ranges.push([start, stray]);
      start = nextId(stray);
    }
    if (start < to) ranges.push([start, to]);
    return ranges;
  }

  /** The exclusion constraints for day partition `name` that a failed or crashed step left. */
  private async exclusionsLeft(manager: EntityManager, name: string): Promise<string[]> {
    const rows: { name: string }[] = await manager.query(
      `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'task_runs_default'::regclass AND conname LIKE $1`,
      [`${exclusions(name)}\\_%`],
    );
    return rows.map((r) => r.name);
  }

  /**
   * Drops the partitions of day `day` if every record in them finished before `cutoff`;
   * returns how many records went (PostgreSQL's estimate), or null when the day is kept.
   *
   * The partitions are locked against writes first, so the check holds until the drop. The
   * rows that reference them (the domain tables' results, the idempotency keys) are deleted by
   * range first, so their own triggers run (an export's archive is listed for removal); then
   * each partition is detached and dropped.
   */
  async drop(manager: EntityManager, day: number, cutoff: Date): Promise<number | null> {
    const partitions = (await this.list(manager)).filter((p) => p.day === day);
    if (partitions.length === 0 || day + DAY_MS > cutoff.getTime()) return null;
    await manager.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    for (const { name } of partitions) await manager.query(`LOCK TABLE ${name} IN EXCLUSIVE MODE`);
    for (const { name } of partitions) {
      const [{ kept }] = await manager.query(
        `SELECT EXISTS (SELECT 1 FROM ${name} WHERE state IN (${OPEN_STATES.map((s) => `'${s}'`).join(', ')}))
             OR EXISTS (SELECT 1 FROM ${name} WHERE finished_at >= $1) AS kept`,
        [cutoff],
      );
      if (kept) return null;
    }
    const references: { table: string; column: string }[] = await manager.query(
      `SELECT c.conrelid::regclass::text AS table, a.attname AS column
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.confrelid = 'task_runs'::regclass AND c.contype = 'f' AND c.conparentid = 0`,
    );
    let records = 0;
    for (const { name, from, to } of partitions) {
      for (const { table, column } of references)
        await manager.query(`DELETE FROM ${table} WHERE ${column} >= $1 AND ${column} < $2`, [from, to]);
      const [{ estimate }] = await manager.query(
        `SELECT greatest(reltuples, 0)::bigint AS estimate FROM pg_class WHERE oid = $1::regclass`,
        [name],
      );
      records += Number(estimate);
      await manager.query(`ALTER TABLE task_runs DETACH PARTITION ${name}`);
      await manager.query(`DROP TABLE ${name}`);
    }
    return records;
  }
}
