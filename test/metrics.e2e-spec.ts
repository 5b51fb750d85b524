import { randomUUID } from 'node:crypto';
import { declaredTasks } from '../src/tasks/task-definition';
import { RestartableServer, startRestartableRedis, waitUntil } from './support/processes';
import { exposedMetrics, metricsIn, shippedExpressions } from './support/promql-metrics';
import { startTestService, TestService } from './support/test-service';

const TOKEN = 'metrics-token-0123456789abcdef';

/** Scrapes /metrics with the scrape token; a hung scrape fails the test instead of the suite. */
async function scrape(baseUrl: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    // Far above the ~1 s a scrape takes with a store down; before the deadlines it never answered.
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text() };
}

const lines = (text: string, metric: string) => text.split('\n').filter((l) => l.startsWith(`${metric}{`));

describe('Metrics as Prometheus scrapes them', () => {
  let redis: RestartableServer;
  let app: TestService;

  beforeAll(async () => {
    redis = await startRestartableRedis();
    app = await startTestService({ REDIS_URL: redis.url, METRICS_TOKEN: TOKEN, METRICS_READ_TIMEOUT_MS: '500' });
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('starts every counter at 0 for each declared task and outcome, before any task ran', async () => {
    const { status, text } = await scrape(app.baseUrl);
    expect(status).toBe(200);
    const attempts = lines(text, 'task_attempts_total');
    for (const task of declaredTasks()) {
      for (const outcome of ['SUCCESS', 'RETRY', 'FAILURE', 'REVOKED'])
        expect(attempts).toContainEqual(expect.stringMatching(`task="${task.name}",.*outcome="${outcome}"\\} 0$`));
      expect(text).toContain(`tasks_finished_total{task="${task.name}",queue="${task.queue}",state="FAILURE"} 0`);
      expect(text).toContain(`task_retries_total{task="${task.name}",queue="${task.queue}"} 0`);
    }
  });

  it('times HTTP requests by route pattern and status, not by raw path', async () => {
    const id = randomUUID();
    expect((await app.admin.get(`/tasks/${id}`)).status).toBe(404);
    await fetch(`${app.baseUrl}/no/such/route/${id}`);
    const { text } = await scrape(app.baseUrl);
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/tasks\/:id",status="404"\} [1-9]/m,
    );
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} [1-9]/m);
    expect(text).not.toContain(id);
  });

  it('reports the queues, the outbox, the workers and both stores while they answer', async () => {
    const { text } = await scrape(app.baseUrl);
    expect(text).toMatch(/^queue_jobs\{queue="default",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^queue_oldest_waiting_seconds\{queue="default"\} [\d.]+$/m);
    expect(text).toMatch(/^queue_workers\{queue="default"\} [1-9]/m);
    expect(text).toMatch(/^task_outbox_pending \d+$/m);
    expect(text).toMatch(/^store_up\{store="transport"\} 1$/m);
    expect(text).toMatch(/^store_up\{store="database"\} 1$/m);
    expect(text).toMatch(/^metrics_scrape_error\{source="queue:default"\} 0$/m);
  });

  it('every PromQL expression shipped (alerts, Grafana dashboard, KEDA triggers) reads metrics /metrics exports', async () => {
    const exposed = exposedMetrics((await scrape(app.baseUrl)).text);
    // `up` is Prometheus's own, per target.
    exposed.add('up');
    const expressions = shippedExpressions();
    expect(expressions.length).toBeGreaterThan(20);
    const unknown = expressions.flatMap(({ where, expr }) =>
      metricsIn(expr)
        .filter((name) => !exposed.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The parser finds the metrics at all (a parser that finds none would pass the check above).
    expect(metricsIn('sum by (task) (rate(task_attempts_total{outcome="FAILURE"}[15m])) / 2')).toEqual([
      'task_attempts_total',
    ]);
  });

  it('answers while Redis is down, flagging the queue gauges it could not read', async () => {
    await redis.stop();
    // The first scrape waits out the read deadline; the next ones find the transport known down.
    try {
      for (let i = 0; i < 3; i++) {
        const { status, text } = await scrape(app.baseUrl);
        expect(status).toBe(200);
        expect(text).toMatch(/^metrics_scrape_error\{source="queue:default"\} 1$/m);
        expect(text).toMatch(/^store_up\{store="transport"\} 0$/m);
        expect(lines(text, 'queue_jobs')).toEqual([]);
        // What does not depend on Redis is still there.
        expect(text).toMatch(/^task_outbox_pending \d+$/m);
        expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      }
    } finally {
      await redis.start();
    }
    await waitUntil(async () => /^queue_jobs\{queue="default"/m.test((await scrape(app.baseUrl)).text), 20_000, 250);
    expect((await scrape(app.baseUrl)).text).toMatch(/^store_up\{store="transport"\} 1$/m);
  });
});
