import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { isAdmin, Principal } from '../../auth/principal';
import { ListTasksQuery } from '../http/dto/list-tasks-query.dto';
import { TaskRun } from './entities/task-run.entity';

/** Reads task records as a caller may see them: a client only its own, an admin all. */
@Injectable()
export class TaskQueryService {
  private byIdSql?: string;

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
    this.byIdSql ??= `SELECT ${this.runs.metadata.columns
      .map((c) => `"${c.databaseName}" AS "${c.propertyName}"`)
      .join(', ')} FROM task_runs WHERE id = $1`;
    const rows: Partial<TaskRun>[] = await this.runs.query(this.byIdSql, [id]);
    return rows.length ? Object.assign(new TaskRun(), rows[0]) : null;
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

  /** Newest first, keyset-paginated on (created_at, id) so deep pages stay fast. */
  async list(query: ListTasksQuery, principal: Principal): Promise<{ items: TaskRun[]; nextCursor: string | null }> {
    const qb = this.runs
      .createQueryBuilder('t')
      .orderBy('t.created_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(query.limit + 1);
    if (!isAdmin(principal)) qb.andWhere('t.owner = :owner', { owner: principal.keyId });
    if (query.name?.endsWith('*'))
      qb.andWhere('t.name LIKE :prefix', { prefix: `${escapeLike(query.name.slice(0, -1))}%` });
    else if (query.name) qb.andWhere('t.name = :name', { name: query.name });
    if (query.state) qb.andWhere('t.state = :state', { state: query.state });
    if (query.parentId) qb.andWhere('t.parent_id = :parentId', { parentId: query.parentId });
    if (query.from) qb.andWhere('t.created_at >= :from', { from: query.from });
    if (query.to) qb.andWhere('t.created_at < :to', { to: query.to });
    if (query.cursor) {
      const { createdAt, id } = decodeCursor(query.cursor);
      qb.andWhere('(t.created_at, t.id) < (:createdAt, :id)', { createdAt, id });
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
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
