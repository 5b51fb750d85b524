import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TaskState } from '../src/tasks/task-state';
import { PrivateRedis, startPrivateRedis } from './support/processes';
import { startTestService, TestService } from './support/test-service';
import { ApiWithWorkerProcesses } from './support/worker-processes';

/** An api in this process and workers as child processes that the tests kill. */
describe('Nothing acknowledged is lost: crashes, rollouts and a flushed Redis', () => {
  describe('worker processes', () => {
    let deployment: ApiWithWorkerProcesses;
    const startWorker = () => deployment.startWorker();

    beforeAll(async () => {
      deployment = await ApiWithWorkerProcesses.start();
    });
    afterEach(() => deployment?.killWorkers());
    afterAll(() => deployment?.stop());

    it('a worker killed with SIGKILL mid-task: the task still ends SUCCESS after stall recovery', async () => {
      const first = await startWorker();
      const tasks = await Promise.all(
        [1, 2, 3].map(() => deployment.admin.submit('tasks.system.sleep', { ms: 2_000 })),
      );
      await Promise.all(tasks.map((t) => deployment.admin.waitForTask(t.id, [TaskState.STARTED], 20_000)));
      await deployment.kill(first);
      await startWorker();
      const done = await Promise.all(tasks.map((t) => deployment.admin.waitForTask(t.id, undefined, 60_000)));
      expect(done.map((t) => t.state)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    });

    it('SIGTERM during an active task: the task finishes, nothing fails, the process exits cleanly', async () => {
      const worker = await startWorker();
      const task = await deployment.admin.submit('tasks.system.sleep', { ms: 2_500 });
      await deployment.admin.waitForTask(task.id, [TaskState.STARTED], 20_000);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const done = (await deployment.admin.get(`/tasks/${task.id}`)).body;
      expect(done).toMatchObject({ state: 'SUCCESS', attempts: 1 });
      expect(worker.output()).toContain('Stopping');
    });
  });

  describe('reconciler', () => {
    let redis: PrivateRedis;
    let svc: TestService;

    beforeAll(async () => {
      redis = await startPrivateRedis();
      svc = await startTestService({
        REDIS_URL: redis.url,
        RECONCILE_INTERVAL_MS: '500',
        RECONCILE_MIN_AGE_MS: '1000',
      });
    });
    afterAll(async () => {
      await svc?.stop();
      redis?.stop();
    });

    it('re-enqueues waiting tasks after their Redis lost its data, and they end SUCCESS', async () => {
      const tasks = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => svc.admin.submit('tasks.system.noop', { i }, { delay: 2_000 })),
      );
      const client = new Redis(redis.url);
      await client.flushall();
      expect(await client.dbsize()).toBe(0);
      client.disconnect();
      const done = await Promise.all(tasks.map((t) => svc.admin.waitForTask(t.id, undefined, 30_000)));
      expect(done.map((t) => t.state)).toEqual(Array(5).fill('SUCCESS'));
      expect(done.map((t) => t.result.i)).toEqual([1, 2, 3, 4, 5]);
    });

    it('queues a record whose job never reached the queue (a crash between insert and add)', async () => {
      const id = randomUUID();
      const now = new Date(Date.now() - 5_000);
      await svc.service.app.get(DataSource).query(
        `INSERT INTO task_runs (id, name, queue, owner, args, state, attempts, max_attempts, run_at, created_at, updated_at)
         VALUES ($1, 'tasks.system.noop', 'default', NULL, '{"orphan":true}', 'PENDING', 0, 1, $2, $2, $2)`,
        [id, now],
      );
      const done = await svc.admin.waitForTask(id, undefined, 30_000);
      expect(done).toMatchObject({ state: 'SUCCESS', result: { orphan: true } });
    });

    it('runs again a task whose job BullMQ failed while its record stayed open (a stall limit)', async () => {
      const task = await svc.admin.submit('tasks.system.fail', { unrecoverable: true, message: 'no' });
      expect(await svc.admin.waitForTask(task.id, undefined, 20_000)).toMatchObject({ state: 'FAILURE', attempts: 1 });
      // As if BullMQ had failed the job without the runner recording it.
      await svc.service.app
        .get(DataSource)
        .query(
          `UPDATE task_runs SET state = 'STARTED', finished_at = NULL, updated_at = now() - interval '10 seconds' WHERE id = $1`,
          [task.id],
        );
      const done = await svc.admin.waitForTask(task.id, [TaskState.FAILURE], 30_000);
      // A second attempt ran and recorded its end.
      expect(done).toMatchObject({ state: 'FAILURE', attempts: 2 });
    });
  });
});
