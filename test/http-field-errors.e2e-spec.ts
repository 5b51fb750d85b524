import { connect } from 'node:net';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

/** Sends bytes as they are (fetch would percent-encode them) and returns the status line and body. */
function rawRequest(baseUrl: string, requestLine: Buffer): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(Buffer.concat([requestLine, Buffer.from('\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    });
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body = ''] = response.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
  });
}

describe('400s name each field once, and every 400 has the field-error body', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    svc = await startTestService({ ROLE: 'api' });
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  it('one error per field: the first rule that fails', async () => {
    const account = (await api.post('/credits/accounts', {})).body.id;
    const response = await api.post(`/credits/accounts/${account}/grant`, { amount: '10' });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'amount', rule: 'isInt' })]);
    expect(response.body.message).toHaveLength(1);
  });

  it('a missing q is reported as required, and only that', async () => {
    const response = await api.get('/files/search');
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'q', rule: 'required', message: 'q is required' }]);
  });

  it('a raw UTF-8 byte in the query string gets a 400 with the field-error body', async () => {
    const line = Buffer.concat([Buffer.from('GET /files/search?q='), Buffer.from('乌龙茶'), Buffer.from(' HTTP/1.1')]);
    const response = await rawRequest(svc.baseUrl, line);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      statusCode: 400,
      errors: [expect.objectContaining({ field: 'query', rule: 'isUriEncoded' })],
    });
  });

  it('POST /credits/expire refuses an asOf in the future with a 400 naming asOf', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const response = await api.post('/credits/expire', { asOf: tomorrow });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'asOf', rule: 'notInFuture' })]);
    expect((await api.post('/credits/expire', { asOf: new Date().toISOString() })).status).toBe(202);
  });

  // The API description is public, as with most public APIs: it holds no data, and clients
  // generate code from it. Every other route but health needs a key.
  it('/docs and /docs-json answer without a key; the API itself does not', async () => {
    const anonymous = api.as(undefined);
    const json = await anonymous.get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect((await anonymous.get('/docs')).status).toBe(200);
    expect((await anonymous.get('/tasks')).status).toBe(401);
  });
});
