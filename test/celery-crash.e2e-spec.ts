import { spawnSync } from 'node:child_process';
import { DataSource } from 'typeorm';
import { CeleryBroker, client, startCeleryBroker, waitUntil } from './celery/celery-support';
import { freePort, ServiceProcess, spawnService } from './support/processes';
import { startTestService, testEnvironment, TestService } from './support/test-service';

jest.setTimeout(120_000);

const MESSAGES = 2000;
const READY = 'Celery ingress consuming';

/**
 * kombu's ack emulation: a worker SIGKILLed while its Celery ingress holds messages taken from
 * the broker but not yet acked. Another worker restores them once they are older than the
 * visibility timeout; each message ends as one task, run once.
 */
describe('Celery ingress: a worker killed while holding unacked messages', () => {
  let broker: CeleryBroker;
  let api: TestService;
  let env: Record<string, string | undefined>;
  let db: DataSource;
  const workers: ServiceProcess[] = [];

  const startWorker = async () => {
    const worker = spawnService({
      ...env,
      ROLE: 'worker',
      PORT: String(await freePort()),
      CELERY_BROKER_URL: broker.url,
      CELERY_VISIBILITY_TIMEOUT: '3',
      CELERY_PREFETCH: '100',
    });
    workers.push(worker);
    await worker.waitFor(READY);
    return worker;
  };

  beforeAll(async () => {
    broker = await startCeleryBroker();
    env = testEnvironment({ ROLE: 'api', LOG_LEVEL: 'info' });
    api = await startTestService(env);
    db = api.service.app.get(DataSource);
  });
  afterAll(async () => {
    workers.splice(0).forEach((w) => w.child.kill('SIGKILL'));
    await api?.stop();
    await broker?.stop();
  });

  it('delivers what the dead worker held again, and every call runs once', async () => {
    const first = await startWorker();
    const producing = client<string[]>(broker.url, 'produce', String(MESSAGES));

    // Kill the worker the moment its ingress holds unacked messages.
    const deadline = Date.now() + 60_000;
    while (Number(broker.cli('HLEN', 'unacked')) === 0) {
      if (Date.now() > deadline) throw new Error(`The ingress never held a message:\n${first.output().slice(-3000)}`);
      spawnSync('sleep', ['0.002']);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const held = Number(broker.cli('HLEN', 'unacked'));
    expect(held).toBeGreaterThan(0);
    const ids = await producing;

    const second = await startWorker();
    await second.waitFor(/Restored \d+ Celery message/, 30_000);
    await waitUntil(async () => {
      const [{ done }] = await db.query(
        `SELECT count(*)::int AS done FROM task_runs WHERE id = ANY($1::uuid[]) AND state = 'SUCCESS'`,
        [ids],
      );
      return done === MESSAGES;
    }, 90_000);

    const runs: { id: string; attempts: number }[] = await db.query(
      `SELECT id, attempts FROM task_runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(runs).toHaveLength(MESSAGES);
    expect(runs.filter((r) => r.attempts !== 1)).toEqual([]);
    expect(Number(broker.cli('HLEN', 'unacked'))).toBe(0);
    expect(Number(broker.cli('ZCARD', 'unacked_index'))).toBe(0);
    // Unchanged callers see every result.
    const metas: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      metas.push(
        ...broker
          .cli('MGET', ...ids.slice(i, i + 500).map((id) => `celery-task-meta-${id}`))
          .trim()
          .split('\n'),
      );
    }
    expect(metas.filter((m) => !m.includes('"SUCCESS"'))).toEqual([]);
  });
});
