import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SsrfGuard } from '../ssrf/ssrf-guard';
import { OutboundTimeoutError, ResponseTooLargeError, TooManyRedirectsError } from './outbound-errors';
import { OutboundHttp } from './outbound-http';

describe('OutboundHttp', () => {
  let server: Server;
  let port: number;
  const seen: { url?: string; host?: string; method?: string; authorization?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, host: req.headers.host, method: req.method, authorization: req.headers.authorization });
      if (req.url === '/redirect-private') return void res.writeHead(302, { location: 'http://10.0.0.1/' }).end();
      if (req.url === '/see-other') return void res.writeHead(303, { location: '/ok' }).end();
      if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (req.url === '/big') return void res.end(Buffer.alloc(5000, 'x'));
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1000);
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  // `pinned.test` does not exist in DNS: the request can only succeed by connecting to the
  // address the guard checked, which is what keeps a second DNS answer from mattering.
  const sut = new OutboundHttp(new SsrfGuard('pinned.test', async () => [{ address: '127.0.0.1', family: 4 }]));
  const send = (path: string, extra: Partial<Parameters<OutboundHttp['send']>[0]> = {}) =>
    sut.send({
      method: 'GET',
      url: `http://pinned.test:${port}${path}`,
      headers: {},
      timeoutMs: 2000,
      maxResponseBytes: 1000,
      maxRedirects: 3,
      signal: new AbortController().signal,
      ...extra,
    });

  it('connects to the checked address and keeps the Host header', async () => {
    const response = await send('/ok');
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(seen.at(-1)?.host).toBe(`pinned.test:${port}`);
  });

  it('re-checks every redirect hop', async () => {
    await expect(send('/redirect-private')).rejects.toThrow(/10\.0\.0\.1 is in a blocked range \(private/);
  });

  it('turns a 303 after POST into a GET and drops nothing on the same origin', async () => {
    const response = await send('/see-other', {
      method: 'POST',
      body: Buffer.from('{}'),
      headers: { authorization: 'Bearer t' },
    });
    expect(response).toMatchObject({ status: 200, redirects: 1, finalUrl: `http://pinned.test:${port}/ok` });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', authorization: 'Bearer t' });
  });

  it('stops after the maximum number of redirects', async () => {
    await expect(send('/loop')).rejects.toBeInstanceOf(TooManyRedirectsError);
  });

  it('aborts a body over the cap', async () => {
    await expect(send('/big')).rejects.toBeInstanceOf(ResponseTooLargeError);
  });

  it('times out as a transient error, and rethrows the task signal reason on cancel', async () => {
    await expect(send('/slow', { timeoutMs: 200 })).rejects.toBeInstanceOf(OutboundTimeoutError);
    const controller = new AbortController();
    const reason = new Error('cancelled');
    setTimeout(() => controller.abort(reason), 100);
    await expect(send('/slow', { signal: controller.signal })).rejects.toBe(reason);
  });
});
