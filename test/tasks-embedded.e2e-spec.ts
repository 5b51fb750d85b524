import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './support/api-client';
import { freePort, spawnService, waitUntil } from './support/processes';
import { startTestService } from './support/test-service';

describe('Embedded defaults and the PostgreSQL queue backend', () => {
  it('with no DATABASE_URL and no REDIS_URL the service boots, prints an admin key and runs a task', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'task-service-embedded-'));
    const port = await freePort();
    const service = spawnService({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    });
    try {
      await service.waitFor(/Admin API key \(shown once\): (\S+)/, 90_000);
      const key = /Admin API key \(shown once\): (\S+)/.exec(service.output())![1];
      const api = new ApiClient(`http://127.0.0.1:${port}`, key);
      // The key is printed while the app boots; the HTTP server listens right after.
      await waitUntil(
        async () => (await api.get('/tasks/registered').catch(() => ({ status: 0 }))).status === 200,
        30_000,
      );
      await service.waitFor(/store: embedded PostgreSQL .*transport: BullMQ PostgreSQL backend/, 10_000);
      const task = await api.submit('tasks.system.noop', { embedded: true });
      const done = await api.waitForTask(task.id, undefined, 30_000);
      expect(done).toMatchObject({ state: 'SUCCESS', result: { embedded: true } });
    } finally {
      service.child.kill('SIGTERM');
      const code = await service.exited;
      if (code !== 0) console.log(service.output().slice(-3000));
      expect(code).toBe(0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('runs the task lifecycle on the PostgreSQL queue backend (DATABASE_URL without REDIS_URL)', async () => {
    const svc = await startTestService({ REDIS_URL: undefined });
    try {
      const ok = await svc.admin.submit('tasks.system.noop', { backend: 'postgres' });
      const failing = await svc.admin.submit('tasks.system.fail', { unrecoverable: true });
      const delayed = await svc.admin.submit('tasks.system.noop', {}, { delay: 60_000 });
      expect(await svc.admin.waitForTask(ok.id, undefined, 30_000)).toMatchObject({
        state: 'SUCCESS',
        result: { backend: 'postgres' },
      });
      expect(await svc.admin.waitForTask(failing.id, undefined, 30_000)).toMatchObject({
        state: 'FAILURE',
        attempts: 1,
      });
      expect((await svc.admin.post(`/tasks/${delayed.id}/cancel`)).body.state).toBe('REVOKED');
    } finally {
      await svc.stop();
    }
  });
});
