import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { Repository } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { isAdmin, Principal } from '../../auth/principal';
import { GroupCommit } from '../../common/group-commit';
import { ListTasksQuery } from '../http/dto/list-tasks-query.dto';
import { TaskRun } from './entities/task-run.entity';

/** Reads task records as a caller may see them: a client only its own, an admin all. */
@Injectable()
export class TaskQueryService {
  private selectList?: string;
  /**
   * Lookups by id handed in together (under load, while earlier reads are running) share one
   * `WHERE id = ANY($1)`: one round trip and one row description for the group instead of one
   * each. As many reads in flight as the pool has connections to spare for them.
   */
  private readonly byIds = new GroupCommit<string, TaskRun | null>((ids) => this.findByIds(ids), 4, 500);

  constructor(@InjectRepository(TaskRun) private readonly runs: Repository<TaskRun>) {}

  /** The task, or 404 — also when it exists but belongs to another client. */
  async findVisible(id: string, principal: Principal): Promise<TaskRun> {
    const run = await this.findById(id);
    if (!run || (!isAdmin(principal) && run.owner !== principal.keyId))
      throw new NotFoundException(`Task ${id} not found`);
    return run;
  }

  /** One record by id: the hot read of `GET /tasks/:id` and of every long-poll and event stream. */
  private findById(id: string): Promise<TaskRun | null> {
    // No such id can exist; and a value the uuid cast refuses must not fail the others' group.
    if (!UUID.test(id)) return Promise.resolve(null);
    return this.byIds.add(id);
  }

  /**
   * Records by id, in plain SQL on the driver's pg pool: TypeORM's query builder, result
   * transformer and per-query query runner cost more CPU than the database spends on the lookup.
   * A named statement is parsed once per connection. The columns come from the entity's
   * metadata (none of them has a transformer: pg's own parsing gives the entity's types).
   */
  private async findByIds(ids: string[]): Promise<(TaskRun | null)[]> {
    const { rows } = await this.pool().query<Partial<TaskRun>>({
      name: 'task_runs_by_ids',
      text: `SELECT ${this.columns()} FROM task_runs t WHERE id = ANY($1::uuid[])`,
      values: [ids],
    });
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = found.get(id);
      return row ? Object.assign(new TaskRun(), row) : null;
    });
  }

  private pool(): Pool {
    return (this.runs.manager.connection.driver as PostgresDriver).master as Pool;
  }

  /** The entity's columns of `task_runs t`, named as its properties. */
  private columns(): string {
    return (this.selectList ??= this.runs.metadata.columns
      .map((c) => `t."${c.databaseName}" AS "${c.propertyName}"`)
      .join(', '));
  }

  /**
   * Which of `values` the children of `parentId` were submitted with as argument `arg`: a parent
   * task that is retried uses this to submit only the children an earlier attempt did not.
   */
  async childArgValues(parentId: string, arg: string, values: string[]): Promise<Set<string>> {
    if (values.length === 0) return new Set();
    const rows: { value: string }[] = await this.runs.query(
      `SELECT args ->> $2 AS value FROM task_runs WHERE parent_id = $1 AND args ->> $2 = ANY($3)`,
      [parentId, arg, values],
    );
    return new Set(rows.map((r) => r.value));
  }

  /**
   * Newest first, keyset-paginated on (created_at, id) so deep pages stay fast. In plain SQL (see
   * findByIds) because of the name prefix (`tasks.api.*`): a LIKE cannot use the index on
   * (name, created_at, id) since the collation is not C, so the planner walked `task_runs_created`
   * past every newer record of other names (80 ms at 5M records for a rare prefix). Instead the
   * names in the table are found by a skip scan of that index (one probe per distinct name), and
   * each matching name's newest rows read from it and merged: the same rows in the same order.
   */
  async list(query: ListTasksQuery, principal: Principal): Promise<{ items: TaskRun[]; nextCursor: string | null }> {
    const { sql, params } = this.listStatement(query, principal);
    const rows: Partial<TaskRun>[] = await this.runs.query(sql, params);
    const items = rows.slice(0, query.limit).map((row) => Object.assign(new TaskRun(), row));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  /** The statement `list` runs: one row more than the page, to tell whether another follows. */
  listStatement(query: ListTasksQuery, principal: Principal): { sql: string; params: unknown[] } {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where: string[] = [];
    if (!isAdmin(principal)) where.push(`t.owner = ${param(principal.keyId)}`);
    const prefix = query.name?.endsWith('*') ? `${escapeLike(query.name.slice(0, -1))}%` : undefined;
    if (query.name && prefix === undefined) where.push(`t.name = ${param(query.name)}`);
    if (query.state) where.push(`t.state = ${param(query.state)}`);
    if (query.parentId) where.push(`t.parent_id = ${param(query.parentId)}`);
    if (query.from) where.push(`t.created_at >= ${param(query.from)}`);
    if (query.to) where.push(`t.created_at < ${param(query.to)}`);
    if (query.cursor) {
      const { createdAt, id } = decodeCursor(query.cursor);
      where.push(`(t.created_at, t.id) < (${param(createdAt)}, ${param(id)})`);
    }
    const limit = param(query.limit + 1);
    const newest = (conditions: string[]) =>
      `SELECT ${this.columns()} FROM task_runs t ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY t.created_at DESC, t.id DESC LIMIT ${limit}`;
    const sql =
      prefix === undefined
        ? newest(where)
        : `WITH RECURSIVE names (name) AS (
             (SELECT name FROM task_runs ORDER BY name LIMIT 1)
             UNION ALL
             SELECT (SELECT t.name FROM task_runs t WHERE t.name > names.name ORDER BY t.name LIMIT 1)
               FROM names WHERE names.name IS NOT NULL)
           SELECT r.* FROM names CROSS JOIN LATERAL (${newest([...where, 't.name = names.name'])}) r
            WHERE names.name LIKE ${param(prefix)}
            ORDER BY r."createdAt" DESC, r."id" DESC LIMIT ${limit}`;
    return { sql, params };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function encodeCursor(run: TaskRun): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso);
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? '')) {
    throw new BadRequestException({
      statusCode: 400,
      message: ['cursor must be a nextCursor value from a previous page'],
      errors: [{ field: 'cursor', rule: 'cursor', message: 'cursor must be a nextCursor value from a previous page' }],
    });
  }
  return { createdAt, id };
}
