import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { freePort } from '../support/processes';
import { Nginx } from './nginx';

/**
 * The retry and streaming rules of deploy/nginx/task-service.conf, each provoked on purpose
 * with the real nginx. The upstreams here are stand-ins for API processes that misbehave on
 * cue (reset a request they read, answer 503, hold a stream open): a real process does these
 * only in a narrow race, which the load-balancer scenario cannot hit every run.
 */
interface Upstream {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function upstream(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    // Read the whole request first, as the API process would before it fails.
    req.resume();
    req.once('end', () => handle(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const accepted = (_req: IncomingMessage, res: ServerResponse) =>
  res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"t1"}');

const submit = (nginx: Nginx) =>
  fetch(`${nginx.url}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
    body: '{"name":"tasks.system.noop"}',
  });

describe('The reference nginx config (deploy/nginx)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((c) => c()));
  });

  async function balance(...upstreams: Upstream[]): Promise<Nginx> {
    cleanup.push(...upstreams.map((u) => () => u.close()));
    const nginx = await Nginx.start(upstreams.map((u) => u.port));
    cleanup.push(() => nginx.stop());
    return nginx;
  }

  it('sends a POST that one process read and then reset on to the other process (non_idempotent)', async () => {
    const resetting = await upstream((req) => req.socket.resetAndDestroy());
    const healthy = await upstream(accepted);
    const nginx = await balance(resetting, healthy);

    // Round robin between equals: within two requests one goes to the resetting process first.
    const statuses = [(await submit(nginx)).status, (await submit(nginx)).status];

    expect(statuses).toEqual([202, 202]);
    expect(resetting.hits).toEqual(['POST /tasks']);
    expect(nginx.requests().filter((r) => r.attempts.length === 2)).toHaveLength(1);
  });

  it('sends requests to a process that refuses connections on to the other process', async () => {
    const healthy = await upstream(accepted);
    const nginx = await balance({ port: await freePort(), hits: [], close: async () => undefined }, healthy);

    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await submit(nginx)).status, (await fetch(`${nginx.url}/tasks/t1`)).status);

    expect(statuses).toEqual([202, 202, 202, 202, 202, 202]);
  });

  it("passes the service's 503 with Retry-After on, and never turns it into 502 no live upstreams", async () => {
    const unavailable = (_req: IncomingMessage, res: ServerResponse) =>
      res.writeHead(503, { 'retry-after': '5', 'content-type': 'application/json' }).end('{"statusCode":503}');
    const nginx = await balance(await upstream(unavailable), await upstream(unavailable));

    const answers = [];
    for (let i = 0; i < 4; i++) {
      const response = await submit(nginx);
      answers.push(`${response.status} ${response.headers.get('retry-after')}`);
    }

    expect(answers).toEqual(['503 5', '503 5', '503 5', '503 5']);
  });

  it('passes event-stream data on as it comes, while the stream stays open', async () => {
    let write: (event: string) => void = () => undefined;
    let end = () => undefined as void;
    const streaming = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: PENDING\n\n');
      write = (event) => res.write(`data: ${event}\n\n`);
      end = () => res.end();
    });
    const nginx = await balance(streaming);

    const response = await fetch(`${nginx.url}/tasks/t1/events`, { headers: { accept: 'text/event-stream' } });
    const reader = response.body!.getReader();
    let received = '';
    const receive = async (text: string) => {
      while (!received.includes(text)) {
        const { done, value } = await reader.read();
        if (done) return;
        received += new TextDecoder().decode(value);
      }
    };
    // An event written after the stream began must reach the client while the stream is open:
    // the stream's end here waits for it.
    await receive('PENDING');
    write('STARTED');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([receive('STARTED'), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    end();
    await reader.cancel();

    expect(received).toContain('STARTED');
  });
});
