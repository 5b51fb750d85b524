import { DataSource } from 'typeorm';
import { CeleryBroker, client, startCeleryBroker } from './celery/celery-support';
import { startTestService, TestService } from './support/test-service';

jest.setTimeout(180_000);

/** `CELERY_VOLUME_N` scales the run down on a slow CI box; the figure is 10,000. */
const N = Number(process.env.CELERY_VOLUME_N ?? 10_000);
const THREADS = 4;

/**
 * Volume through the Celery ingress: N `.delay()` calls from 4 Python threads while the workers
 * run. Every call ends SUCCESS, once. The rate is printed (the comparison with Celery's own
 * prefork worker is bench/celery-ingress.bench.ts).
 */
describe('Celery ingress: 10,000 .delay() calls from 4 threads', () => {
  let broker: CeleryBroker;
  let svc: TestService;

  beforeAll(async () => {
    broker = await startCeleryBroker();
    svc = await startTestService({ CELERY_BROKER_URL: broker.url, WORKER_CONCURRENCY: '50' });
  });
  afterAll(async () => {
    await svc?.stop();
    await broker?.stop();
  });

  it('ends every call SUCCESS, none twice', async () => {
    const run = await client<{
      n: number;
      unique_ids: number;
      states: Record<string, number>;
      enqueue_s: number;
      e2e_s: number;
      ids: string[];
    }>(broker.url, 'volume', String(N), String(THREADS));
    expect(run.n).toBe(N);
    expect(run.unique_ids).toBe(N);
    expect(run.states).toEqual({ SUCCESS: N });
    const db = svc.service.app.get(DataSource);
    const [counts] = await db.query(
      `SELECT count(*)::int AS records, count(*) FILTER (WHERE state = 'SUCCESS' AND attempts = 1)::int AS once
       FROM task_runs WHERE id = ANY($1::uuid[])`,
      [run.ids],
    );
    expect(counts).toEqual({ records: N, once: N });
    process.stdout.write(
      `\nCelery ingress volume: ${N} .delay() from ${THREADS} threads: enqueue ${(N / run.enqueue_s).toFixed(0)}/s, ` +
        `end to end ${(N / run.e2e_s).toFixed(0)}/s (${run.e2e_s.toFixed(1)} s)\n`,
    );
  });
});
