import { randomBytes } from 'node:crypto';
import { ApiClient } from './support/api-client';
import { OtlpCollector, ReceivedSpan, SpanKind, startOtlpCollector } from './support/otlp-collector';
import { freePort, ServiceProcess, spawnService, waitUntil } from './support/processes';
import { ADMIN_KEY, testEnvironment } from './support/test-service';

/** Waits until the process answers its liveness probe; fails with its output otherwise. */
async function untilLive(service: ServiceProcess, port: number): Promise<void> {
  const live = () =>
    fetch(`http://127.0.0.1:${port}/health/live`).then(
      (response) => response.ok,
      () => false,
    );
  await waitUntil(live, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}; output:\n${service.output().slice(-3000)}`);
  });
}

/**
 * OpenTelemetry across processes: an api and a worker process export to a local OTLP endpoint;
 * one submit must make one trace that goes from the HTTP request through the record's insert and
 * the job's `add` in the api process to the job's `process` in the worker process, and the
 * worker's task log lines must name that trace.
 */
describe('Traces: one submit, one trace across the api and the worker', () => {
  let collector: OtlpCollector;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let client: ApiClient;

  beforeAll(async () => {
    collector = await startOtlpCollector();
    const env = testEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      // Export within a fraction of a second, not the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'info',
    });
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    api = spawnService({ ...env, ROLE: 'api', PORT: String(apiPort) });
    await untilLive(api, apiPort);
    worker = spawnService({ ...env, ROLE: 'worker', PORT: String(workerPort) });
    await untilLive(worker, workerPort);
    client = new ApiClient(`http://127.0.0.1:${apiPort}`, ADMIN_KEY);
  });

  afterAll(async () => {
    api?.child.kill('SIGKILL');
    worker?.child.kill('SIGKILL');
    await collector?.close();
  });

  it('continues the caller’s trace from the request to the handler, in two processes', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const submitted = await client.post(
      '/tasks',
      { name: 'tasks.system.noop', args: { n: 1 } },
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(submitted.status).toBe(202);
    const taskId: string = submitted.body.id;
    await expect(client.waitForTask(taskId)).resolves.toMatchObject({ state: 'SUCCESS' });

    const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    const consumer = () =>
      inTrace().find((s) => s.kind === SpanKind.CONSUMER && s.attributes['bullmq.job.id'] === taskId);
    const producer = () =>
      inTrace().find((s) => s.kind === SpanKind.PRODUCER && s.attributes['bullmq.job.id'] === taskId);
    const server = () => inTrace().find((s) => s.kind === SpanKind.SERVER);
    // Each process exports on its own schedule: wait for the spans of both.
    await waitUntil(async () => Boolean(consumer() && producer() && server()), 15_000).catch((error: Error) => {
      const seen = inTrace().map((s) => `${SpanKind[s.kind]} ${s.name} (pid ${String(s.resource['process.pid'])})`);
      throw new Error(`${error.message}; the trace holds: ${seen.join(', ') || 'nothing'}`);
    });

    const pidOf = (span: ReceivedSpan) => span.resource['process.pid'];
    expect(server()).toMatchObject({
      parentSpanId: callerSpanId,
      attributes: expect.objectContaining({ 'http.request.method': 'POST' }),
    });
    expect(pidOf(server()!)).toBe(api.child.pid);
    // The record's insert, in the request.
    expect(
      inTrace().some(
        (s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql',
      ),
    ).toBe(true);
    expect(pidOf(producer()!)).toBe(api.child.pid);
    // The worker continues from the job's add, in its own process.
    expect(consumer()).toMatchObject({ parentSpanId: producer()!.spanId });
    expect(pidOf(consumer()!)).toBe(worker.child.pid);
    // Every span about this job is in the caller's trace.
    const aboutJob = collector.spans.filter((s) => s.attributes['bullmq.job.id'] === taskId);
    expect(new Set(aboutJob.map((s) => s.traceId))).toEqual(new Set([traceId]));

    const taskLines = worker
      .output()
      .split('\n')
      .filter((line) => line.includes(taskId) && line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; trace_id?: string });
    expect(taskLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['Task started', 'Task succeeded']));
    for (const line of taskLines) expect(line.trace_id).toBe(traceId);
  });

  it('shows the SMTP delivery of an e-mail task in its trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const submitted = await client.post(
      '/emails',
      { to: ['ann@example.com'], subject: 'Traced', text: 'Hello' },
      { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    );
    expect(submitted.status).toBe(202);
    await expect(client.waitForTask(submitted.body.id)).resolves.toMatchObject({ state: 'SUCCESS' });
    const smtp = () => collector.spans.find((s) => s.traceId === traceId && s.name === 'smtp send');
    await waitUntil(async () => smtp() !== undefined, 15_000);
    expect(smtp()).toMatchObject({
      kind: SpanKind.CLIENT,
      resource: expect.objectContaining({ 'process.pid': worker.child.pid }),
    });

    // Idle workers poll every few seconds: their polls start no trace of their own.
    expect(collector.spans.filter((s) => /^(getNextJob|moveStalledJobsToWait)/.test(s.name))).toEqual([]);
  });
});
