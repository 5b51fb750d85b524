import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { isAdmin, Principal } from '../../auth/principal';
import { ListTasksQuery } from '../http/dto/list-tasks-query.dto';
import { TaskRun } from './entities/task-run.entity';

/** Reads task records as a caller may see them: a client only its own, an admin all. */
@Injectable()
export class TaskQueryService {
  private selectList?: string;

  constructor(@InjectRepository(TaskRun) private readonly runs: Repository<TaskRun>) {}

  /** The task, or 404 — also when it exists but belongs to another client. */
  async findVisible(id: string, principal: Principal): Promise<TaskRun> {
    const run = await this.findById(id);
    if (!run || (!isAdmin(principal) && run.owner !== principal.keyId))
      throw new NotFoundException(`Task ${id} not found`);
    return run;
  }

  /**
   * One record by id, in plain SQL: the hot read of `GET /tasks/:id` and of every long-poll and
   * event stream, where TypeORM's query builder and result transformer cost more CPU than the
   * database spends on the lookup. The columns come from the entity's metadata (none of them
   * has a transformer: pg's own parsing gives the entity's types).
   */
  private async findById(id: string): Promise<TaskRun | null> {
    const rows: Partial<TaskRun>[] = await this.runs.query(`SELECT ${this.columns()} FROM task_runs t WHERE id = $1`, [
      id,
    ]);
    return rows.length ? Object.assign(new TaskRun(), rows[0]) : null;
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
   * findById) because of the name prefix (`tasks.api.*`): a LIKE cannot use the index on
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
