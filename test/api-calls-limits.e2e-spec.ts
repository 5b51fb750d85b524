import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiClient } from './support/api-client';
import { ApiWithWorkerProcesses } from './support/worker-processes';

jest.setTimeout(180_000);

const RATE = 4;
const CONCURRENCY = 2;
const HOLD_MS = 400;

/** A loopback endpoint that records when each request arrived and how many were in flight at once. */
async function startRecordingTarget() {
  const arrivals: { path: string; at: number }[] = [];
  const finished = new Map<string, number>();
  const hits = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const path = req.url!;
    arrivals.push({ path, at: Date.now() });
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const answer = (status: number, headers: Record<string, string> = {}) => {
      inFlight--;
      finished.set(path, Date.now());
      res.writeHead(status, headers).end(String(status));
    };
    if (path.startsWith('/hold/')) return void setTimeout(() => answer(200), HOLD_MS);
    if (path.startsWith('/busy-seconds/'))
      return answer(hit === 1 ? 429 : 200, hit === 1 ? { 'retry-after': '2' } : {});
    if (path.startsWith('/busy-date/'))
      return answer(
        hit === 1 ? 503 : 200,
        hit === 1 ? { 'retry-after': new Date(Date.now() + 2_000).toUTCString() } : {},
      );
    if (path.startsWith('/busy-hour/')) return answer(429, { 'retry-after': '3600' });
    answer(200);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    arrivals,
    finished,
    maxInFlight: () => maxInFlight,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('tasks.api.call: per-host limits across workers and Retry-After, waited out in the queue', () => {
  let deployment: ApiWithWorkerProcesses;
  let api: ApiClient;
  let target: Awaited<ReturnType<typeof startRecordingTarget>>;

  beforeAll(async () => {
    target = await startRecordingTarget();
    deployment = await ApiWithWorkerProcesses.start({
      API_CALLS_ALLOWED_HOSTS: '127.0.0.1,localhost',
      // 127.0.0.1 is limited; `localhost` (the same server) is not.
      API_CALLS_HOST_LIMITS: JSON.stringify({ '127.0.0.1': { ratePerSecond: RATE, concurrency: CONCURRENCY } }),
      API_CALLS_LIMIT_WAIT_MS: '100',
      QUEUE_CONCURRENCY: 'api_calls=3',
      WORKER_QUEUES: 'api_calls',
    });
    api = deployment.admin;
    for (let i = 0; i < 2; i++) await deployment.startWorker({}, undefined, 90_000);
  });
  afterAll(async () => {
    await deployment?.stop();
    await target?.close();
  });

  const submit = (url: string) => api.submit('tasks.api.call', { method: 'GET', url });

  it('two worker processes together keep the rate and concurrency bounds of a host, using no attempt to wait', async () => {
    const tasks = [];
    for (let i = 0; i < 12; i++) tasks.push(await submit(`http://127.0.0.1:${target.port}/hold/limits-${i}`));
    const done = await Promise.all(tasks.map((t) => api.waitForTask(t.id, undefined, 90_000)));
    const starts = target.arrivals.filter((a) => a.path.startsWith('/hold/limits-')).map((a) => a.at);
    // Six slots over two workers could run six at once; the limit lets two.
    expect(target.maxInFlight()).toBe(CONCURRENCY);
    // Any RATE + 1 consecutive starts span at least a second (less the loopback's scheduling slack).
    const spans = starts.slice(RATE).map((at, i) => at - starts[i]);
    expect(Math.min(...spans)).toBeGreaterThanOrEqual(750);
    expect(new Set(done.map((t) => t.workerId)).size).toBe(2);
    // Waiting for the host is not a failed attempt: every call runs once, and succeeds.
    expect(done.map((t) => [t.state, t.attempts])).toEqual(Array(12).fill(['SUCCESS', 1]));
    expect(starts).toHaveLength(12);
  });

  it('a call to a host at its limit does not hold a worker slot: an unlimited host is served meanwhile', async () => {
    const limited = [];
    for (let i = 0; i < 8; i++) limited.push(await submit(`http://127.0.0.1:${target.port}/hold/slots-${i}`));
    const free = await submit(`http://localhost:${target.port}/free/slots`);
    const freeDone = await api.waitForTask(free.id, undefined, 60_000);
    expect(freeDone.state).toBe('SUCCESS');
    await Promise.all(limited.map((t) => api.waitForTask(t.id, undefined, 90_000)));
    const lastLimitedStart = Math.max(
      ...target.arrivals.filter((a) => a.path.startsWith('/hold/slots-')).map((a) => a.at),
    );
    expect(target.finished.get('/free/slots')!).toBeLessThan(lastLimitedStart);
  });

  it.each([
    ['429 with Retry-After in seconds', 'busy-seconds'],
    ['503 with Retry-After as an HTTP date', 'busy-date'],
  ])('%s: the retry comes no sooner than asked, and another call runs meanwhile', async (_title, route) => {
    const task = await submit(`http://localhost:${target.port}/${route}/x`);
    await api.waitForTask(task.id, ['RETRY' as never], 30_000);
    const other = await submit(`http://localhost:${target.port}/free/${route}`);
    expect((await api.waitForTask(other.id, undefined, 30_000)).state).toBe('SUCCESS');
    const done = await api.waitForTask(task.id, undefined, 30_000);
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 2 });
    const [first, second] = target.arrivals.filter((a) => a.path === `/${route}/x`).map((a) => a.at);
    // An HTTP date has whole seconds: it may come up to a second early.
    expect(second - first).toBeGreaterThanOrEqual(route === 'busy-date' ? 1_000 : 2_000);
    expect(target.finished.get(`/free/${route}`)!).toBeLessThan(second);
  });

  it('a Retry-After beyond API_CALLS_MAX_RETRY_AFTER_MS fails the task at once, naming the limit', async () => {
    const task = await submit(`http://localhost:${target.port}/busy-hour/x`);
    const done = await api.waitForTask(task.id, undefined, 30_000);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1 });
    expect(done.error.message).toMatch(/Retry-After of 3600000 ms is more than API_CALLS_MAX_RETRY_AFTER_MS/);
  });
});
