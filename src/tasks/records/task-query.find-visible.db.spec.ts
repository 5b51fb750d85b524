import { randomUUID } from 'node:crypto';
import { NotFoundException } from '@nestjs/common';
import type { Pool } from 'pg';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { Principal } from '../../auth/principal';
import { TaskState } from '../task-state';
import { TaskRun } from './entities/task-run.entity';
import { TaskQueryService } from './task-query.service';

/** GET /tasks/:id's lookup: lookups handed in together share one read, each caller its own answer. */
describe('TaskQueryService.findVisible on PostgreSQL', () => {
  const db = useSpecDatabase([TaskRun]);
  let sut: TaskQueryService;
  const alice: Principal = { keyId: randomUUID(), name: 'alice', role: 'client' };
  const bob: Principal = { keyId: randomUUID(), name: 'bob', role: 'client' };
  const admin: Principal = { keyId: randomUUID(), name: 'admin', role: 'admin' };
  const ids = { alice: randomUUID(), bob: randomUUID(), missing: randomUUID() };

  beforeAll(async () => {
    sut = new TaskQueryService(db.current.repository(TaskRun));
    await db.current.dataSource.query(
      `INSERT INTO task_runs (id, name, queue, owner, state, max_attempts, run_at, created_at, updated_at, result)
       VALUES ($1, 'tasks.a', 'default', $2, 'SUCCESS', 1, now(), now(), now(), '{"n":1}'),
              ($3, 'tasks.b', 'default', $4, 'PENDING', 1, now(), now(), now(), NULL)`,
      [ids.alice, alice.keyId, ids.bob, bob.keyId],
    );
  });

  it('answers concurrent lookups of different ids and owners in one read, each with its own outcome', async () => {
    const pool = (db.current.dataSource.driver as PostgresDriver).master as Pool;
    const query = jest.spyOn(pool, 'query');
    try {
      const outcomes = await Promise.allSettled([
        sut.findVisible(ids.alice, alice),
        sut.findVisible(ids.bob, bob),
        sut.findVisible(ids.missing, alice),
        sut.findVisible(ids.bob, alice),
        sut.findVisible(ids.alice, admin),
        sut.findVisible('not-a-uuid', admin),
      ]);
      expect(query).toHaveBeenCalledTimes(1);
      const [own, other, missing, foreign, asAdmin, malformed] = outcomes;
      expect(own).toMatchObject({
        status: 'fulfilled',
        value: { id: ids.alice, name: 'tasks.a', state: TaskState.SUCCESS, result: { n: 1 } },
      });
      expect(own.status === 'fulfilled' && own.value).toBeInstanceOf(TaskRun);
      expect(other).toMatchObject({ status: 'fulfilled', value: { id: ids.bob, owner: bob.keyId } });
      expect(asAdmin).toMatchObject({ status: 'fulfilled', value: { id: ids.alice } });
      for (const refused of [missing, foreign, malformed])
        expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundException) });
    } finally {
      query.mockRestore();
    }
  });

  it('reads a lone lookup too', async () => {
    await expect(sut.findVisible(ids.bob, bob)).resolves.toMatchObject({ id: ids.bob, state: TaskState.PENDING });
    await expect(sut.findVisible(ids.missing, admin)).rejects.toBeInstanceOf(NotFoundException);
  });
});
