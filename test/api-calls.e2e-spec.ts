import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { TaskRetention } from '../src/tasks/records/task-retention.service';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A real HTTP server the service calls out to; each path behaves one way. */
async function startTarget(): Promise<{ server: Server; base: string; received: Received[] }> {
  const received: Received[] = [];
  const hits = new Map<string, number>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const hit = (hits.get(req.url!) ?? 0) + 1;
    hits.set(req.url!, hit);
    const [, route] = req.url!.split('/');
    switch (route) {
      case 'echo':
        return void res
          .writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'rq-1', 'set-cookie': 'session=abc' })
          .end(JSON.stringify({ method: req.method, body: body.toString(), trace: req.headers['x-trace'] }));
      case 'flaky':
        return void (hit <= 2
          ? res.writeHead(500).end(`failure ${hit}`)
          : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hit })));
      case 'rate-limited':
        return void (hit === 1
          ? res.writeHead(429, { 'retry-after': '1' }).end('slow down')
          : res.writeHead(200).end('ok'));
      case 'missing':
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing here');
      case 'slow':
        return void setTimeout(() => res.end('too late'), 2000);
      case 'to-metadata':
        return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      case 'big':
        return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(200_000, 'x'));
      case 'hook':
        return void res.writeHead(204).end();
      default:
        res.writeHead(400).end('unknown route');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe('tasks.api.* over HTTP against a real endpoint', () => {
  let svc: TestService;
  let api: ApiClient;
  let target: Awaited<ReturnType<typeof startTarget>>;
  const run = Math.random().toString(36).slice(2, 8);

  beforeAll(async () => {
    target = await startTarget();
    svc = await startTestService({
      API_CALLS_ALLOWED_HOSTS: '127.0.0.1,localhost',
      API_CALLS_MAX_RESPONSE_BYTES: '100000',
    });
    api = await svc.newClient();
  });
  afterAll(async () => {
    await svc?.stop();
    await new Promise((r) => target?.server.close(r));
  });

  const call = async (args: Record<string, unknown>) => {
    const response = await api.post('/api-calls', args);
    expect(response.status).toBe(202);
    return api.waitForTask(response.body.id);
  };

  it('makes the call, returns the result and stores the record without secrets', async () => {
    const done = await call({
      method: 'post',
      url: `${target.base}/echo/${run}`,
      headers: { Authorization: 'Bearer s3cret', 'X-Trace': 't-1' },
      body: { a: 1 },
    });
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 1, queue: 'api_calls', name: 'tasks.api.call' });
    expect(done.result).toMatchObject({
      status: 200,
      redirects: 0,
      json: { method: 'POST', body: '{"a":1}', trace: 't-1' },
      record: `/api-calls/${done.id}`,
    });
    const sent = target.received.find((r) => r.url === `/echo/${run}`)!;
    expect(sent.headers).toMatchObject({ authorization: 'Bearer s3cret', 'content-type': 'application/json' });

    const record = await api.get(`/api-calls/${done.id}`);
    expect(record.status).toBe(200);
    expect(done.result.finalUrl).toMatch(new RegExp(`/echo/${run}$`));
    expect(record.body).toMatchObject({
      taskId: done.id,
      finalUrl: done.result.finalUrl,
      kind: 'call',
      method: 'POST',
      statusCode: 200,
      attempts: 1,
      error: null,
      responseTruncated: false,
    });
    expect(record.body.requestHeaders).toMatchObject({ authorization: '[redacted]', 'x-trace': 't-1' });
    expect(done.args.headers).toEqual({ Authorization: '[redacted]', 'X-Trace': 't-1' });
    expect(JSON.parse(record.body.responseBody)).toEqual({ method: 'POST', body: '{"a":1}', trace: 't-1' });
    expect(record.body.responseHeaders).toEqual(
      expect.objectContaining({ 'x-request-id': 'rq-1', 'content-type': 'application/json' }),
    );
    expect(record.body.responseHeaders['set-cookie']).toBeUndefined();
    expect(record.body.finishedAt).not.toBeNull();

    const stranger = await svc.newClient();
    expect((await stranger.get(`/api-calls/${done.id}`)).status).toBe(404);
    expect((await svc.admin.get(`/api-calls/${done.id}`)).status).toBe(200);
  });

  it('retries 5xx and succeeds on the third attempt', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/flaky/${run}` });
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 3, result: { status: 200, json: { hit: 3 } } });
    const record = await api.get(`/api-calls/${done.id}`);
    expect(record.body).toMatchObject({ attempts: 3, statusCode: 200, error: null });
  });

  it('retries a 429 after its Retry-After', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/rate-limited/${run}` });
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 2 });
  });

  it('fails a 404 at once, naming the status and the body', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/missing/${run}` });
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'HttpStatusError' } });
    expect(done.error.message).toMatch(/answered 404 Not Found: no such thing here/);
    expect((await api.get(`/api-calls/${done.id}`)).body).toMatchObject({
      statusCode: 404,
      responseBody: 'no such thing here',
      attempts: 1,
    });
  });

  it('accepts a status listed in expectStatus', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/missing/${run}-expected`, expectStatus: [404] });
    expect(done).toMatchObject({ state: 'SUCCESS', result: { status: 404 } });
  });

  it('retries a timeout, then fails', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/slow/${run}`, timeoutMs: 300 });
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 3, error: { type: 'OutboundTimeoutError' } });
    expect(target.received.filter((r) => r.url === `/slow/${run}`)).toHaveLength(3);
  });

  it('refuses a redirect to the metadata address', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/to-metadata/${run}` });
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'SsrfBlockedError' } });
    expect(done.error.message).toMatch(/169\.254\.169\.254 is in a blocked range \(cloud metadata/);
  });

  it('aborts a response over the size cap', async () => {
    const done = await call({ method: 'GET', url: `${target.base}/big/${run}` });
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1, error: { type: 'ResponseTooLargeError' } });
    expect(done.error.message).toMatch(/100000-byte cap/);
  });

  it('delivers a webhook the receiver verifies with the Standard Webhooks library', async () => {
    const secret = `whsec_${Buffer.alloc(32, 0x5a).toString('base64')}`;
    const response = await api.post('/webhooks', {
      url: `${target.base}/hook/${run}`,
      event: 'order.paid',
      payload: { orderId: 7 },
      secret,
    });
    expect(response.status).toBe(202);
    const done = await api.waitForTask(response.body.id);
    expect(done).toMatchObject({ state: 'SUCCESS', name: 'tasks.api.webhook', result: { status: 204 } });
    const delivery = target.received.find((r) => r.url === `/hook/${run}`)!;
    expect(delivery.method).toBe('POST');
    expect(delivery.headers['webhook-id']).toBe(done.id);
    expect(delivery.headers['x-webhook-event']).toBe('order.paid');
    const headers = delivery.headers as Record<string, string>;
    expect(new Webhook(secret).verify(delivery.body, headers)).toMatchObject({ id: done.id });
    const wrong = `whsec_${Buffer.alloc(32, 0x11).toString('base64')}`;
    expect(() => new Webhook(wrong).verify(delivery.body, headers)).toThrow(WebhookVerificationError);
    expect(JSON.parse(delivery.body.toString())).toMatchObject({
      id: done.id,
      event: 'order.paid',
      payload: { orderId: 7 },
    });
    expect((await api.get(`/api-calls/${done.id}`)).body).toMatchObject({
      kind: 'webhook',
      event: 'order.paid',
      statusCode: 204,
    });
    // The secret signs the delivery but never shows in the task.
    expect((await api.get(`/tasks/${done.id}`)).body.args).toMatchObject({ secret: '[redacted]', event: 'order.paid' });
  });

  it('answers bad input with 400 naming each field', async () => {
    const bad = await api.post('/api-calls', { method: 'FETCH', url: 'ftp://example.com/file', timeoutMs: 5 });
    expect(bad.status).toBe(400);
    const fields = bad.body.errors.map((e: { field: string; rule: string }) => `${e.field}:${e.rule}`);
    expect(fields).toEqual(expect.arrayContaining(['method:isIn', 'url:isHttpUrl', 'timeoutMs:min']));
    expect(bad.body.message.join(' ')).toMatch(/url must use http or https, not ftp/);

    const notUrl = await api.post('/api-calls', { method: 'GET', url: 'not a url' });
    expect(notUrl.body.errors).toEqual([expect.objectContaining({ field: 'url', rule: 'isHttpUrl' })]);

    const bodyOnGet = await api.post('/api-calls', {
      method: 'GET',
      url: `${target.base}/echo`,
      body: 'x',
      headers: { Host: 'evil' },
    });
    expect(bodyOnGet.body.errors.map((e: { rule: string }) => e.rule).sort()).toEqual([
      'bodyNotAllowed',
      'isHeaderMap',
    ]);

    const generic = await api.post('/tasks', {
      name: 'tasks.api.call',
      args: { method: 'GET', url: 'file:///etc/passwd' },
    });
    expect(generic.status).toBe(400);
    expect(generic.body.errors).toEqual([expect.objectContaining({ field: 'args.url', rule: 'isHttpUrl' })]);

    const hook = await api.post('/webhooks', { url: `${target.base}/hook`, event: 'bad event!', secret: 'short' });
    expect(hook.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['event', 'payload', 'secret']);
  });

  it('404s an unknown record and 400s a malformed id', async () => {
    expect((await api.get('/api-calls/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api.get('/api-calls/nope')).status).toBe(400);
  });

  it('deletes records past the task retention period and keeps recent ones', async () => {
    const recent = await call({ method: 'GET', url: `${target.base}/echo/${run}-recent` });
    const db = svc.service.app.get(DataSource);
    const oldId = '00000000-0000-4000-8000-0000000000aa';
    // An API call record is its task's result: it expires with the task record (ON DELETE CASCADE).
    await db.query(
      `INSERT INTO task_runs (id, name, queue, args, state, attempts, max_attempts, run_at, created_at, updated_at, finished_at)
       VALUES ($1, 'tasks.api.call', 'api_calls', '{}', 'SUCCESS', 1, 3, now() - interval '30 days', now() - interval '30 days', now() - interval '30 days', now() - interval '30 days')`,
      [oldId],
    );
    await db.query(
      `INSERT INTO api_calls (task_id, kind, method, url, created_at, updated_at) VALUES ($1, 'call', 'GET', 'http://old.example/', now() - interval '30 days', now() - interval '30 days')`,
      [oldId],
    );
    await svc.service.app.get(TaskRetention).expire();
    expect(await db.query('SELECT id FROM task_runs WHERE id = $1', [oldId])).toEqual([]);
    expect(await db.query('SELECT task_id FROM api_calls WHERE task_id = $1', [oldId])).toEqual([]);
    expect((await api.get(`/api-calls/${recent.id}`)).status).toBe(200);
  });
});
