import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /tasks?parentId=` pages a parent's children newest first. With the index on `parent_id`
 * alone every page sorted all of a parent's children (a bulk import has thousands); ordered by
 * `(created_at, id)` inside each parent, a page is an index range read of `limit` rows. Partial,
 * as before: most records have no parent.
 */
export class OrderTaskRunsParent1765200000000 implements MigrationInterface {
  name = 'OrderTaskRunsParent1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX task_runs_parent`);
    await q.query(
      `CREATE INDEX task_runs_parent ON task_runs (parent_id, created_at DESC, id DESC) WHERE parent_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX task_runs_parent`);
    await q.query(`CREATE INDEX task_runs_parent ON task_runs (parent_id) WHERE parent_id IS NOT NULL`);
  }
}
