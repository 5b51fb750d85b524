import { spawnSync } from 'node:child_process';
import { CeleryBroker, client, startCeleryBroker } from './celery/celery-support';
import { lastReading } from './support/until';
import { ApiWithWorkerProcesses } from './support/worker-processes';

jest.setTimeout(120_000);

const MESSAGES = 2000;
const INGRESS_READY = 'Celery ingress consuming';

/**
 * kombu's ack emulation: a worker SIGKILLed while its Celery ingress holds messages taken from
 * the broker but not yet acked. Another worker restores them once they are older than the
 * visibility timeout; each message ends as one task, run once.
 */
describe('Celery ingress: a worker killed while holding unacked messages', () => {
  let broker: CeleryBroker;
  let deployment: ApiWithWorkerProcesses;

  const startWorker = () =>
    deployment.startWorker(
      { CELERY_BROKER_URL: broker.url, CELERY_VISIBILITY_TIMEOUT: '3', CELERY_PREFETCH: '100' },
      INGRESS_READY,
    );

  beforeAll(async () => {
    broker = await startCeleryBroker();
    deployment = await ApiWithWorkerProcesses.start();
  });
  afterAll(async () => {
    await deployment?.stop();
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
    await deployment.kill(first);
    const held = Number(broker.cli('HLEN', 'unacked'));
    expect(held).toBeGreaterThan(0);
    const ids = await producing;

    const second = await startWorker();
    await second.waitFor(/Restored \d+ Celery message/, 30_000);
    const succeeded = async (): Promise<number> =>
      (
        await deployment.db.query(
          `SELECT count(*)::int AS done FROM task_runs WHERE id = ANY($1::uuid[]) AND state = 'SUCCESS'`,
          [ids],
        )
      )[0].done;
    expect(await lastReading(succeeded, (done) => done === MESSAGES, 90_000)).toBe(MESSAGES);

    const runs: { id: string; attempts: number }[] = await deployment.db.query(
      `SELECT id, attempts FROM task_runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(runs).toHaveLength(MESSAGES);
    expect(runs.filter((r) => r.attempts !== 1)).toEqual([]);
    expect(Number(broker.cli('HLEN', 'unacked'))).toBe(0);
    expect(Number(broker.cli('ZCARD', 'unacked_index'))).toBe(0);
    // Unchanged callers see every result, the dead worker's finished tasks included: written
    // again on redelivery, or by the result repair when the dead worker had acked the message
    // but died between the record's commit and the result's write.
    const missingResults = async (): Promise<string[]> => {
      const missing: string[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const batch = ids.slice(i, i + 500);
        const metas = broker
          .cli('MGET', ...batch.map((id) => `celery-task-meta-${id}`))
          .trim()
          .split('\n');
        missing.push(...batch.filter((_, j) => !metas[j]?.includes('"SUCCESS"')));
      }
      return missing;
    };
    expect(await lastReading(missingResults, (missing) => missing.length === 0, 30_000)).toEqual([]);
  });
});
