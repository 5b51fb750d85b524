import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { OpenAiEmbedder } from './openai-embedder';

/** A local fake of an OpenAI-compatible /embeddings endpoint. */
function fakeEndpoint(
  behaviour: (
    body: { model: string; input: string[] },
    call: number,
    req: IncomingMessage,
  ) => { status: number; json?: unknown },
) {
  let calls = 0;
  const requests: { model: string; input: string[]; authorization?: string }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw);
      requests.push({ ...body, authorization: req.headers.authorization });
      const { status, json } = behaviour(body, ++calls, req);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json ?? { error: 'x' }));
    });
  });
  return new Promise<{ url: string; requests: typeof requests; close: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/embeddings`,
        requests,
        close: () => server.close(),
      }),
    ),
  );
}

const vectorsFor = (input: string[]) => ({
  data: input.map((text, index) => ({ index, embedding: [text.length, 1, 0] })),
});

describe('OpenAiEmbedder', () => {
  it('batches inputs, sends model and key, and returns normalised vectors in input order', async () => {
    const fake = await fakeEndpoint((body) => ({ status: 200, json: { data: vectorsFor(body.input).data.reverse() } }));
    const sut = new OpenAiEmbedder({
      url: fake.url,
      model: 'm1',
      apiKey: 'k',
      batchSize: 2,
      attempts: 1,
      timeoutMs: 5000,
    });
    const vectors = await sut.embed(['abc', 'a', 'abcd']);
    fake.close();
    expect(fake.requests.map((r) => r.input)).toEqual([['abc', 'a'], ['abcd']]);
    expect(fake.requests[0]).toMatchObject({ model: 'm1', authorization: 'Bearer k' });
    expect(vectors[0][0]).toBeCloseTo(3 / Math.sqrt(10), 5);
    expect(vectors[1][0]).toBeCloseTo(1 / Math.sqrt(2), 5);
    expect(sut.model).toBe('openai:m1');
  });

  it('retries 429 and 5xx answers, then succeeds', async () => {
    const fake = await fakeEndpoint((body, call) =>
      call === 1 ? { status: 503 } : call === 2 ? { status: 429 } : { status: 200, json: vectorsFor(body.input) },
    );
    const sut = new OpenAiEmbedder({
      url: fake.url,
      model: 'm',
      batchSize: 8,
      attempts: 3,
      timeoutMs: 5000,
      backoffMs: 10,
    });
    await expect(sut.embed(['x'])).resolves.toHaveLength(1);
    fake.close();
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up at once on a 401 with an UnrecoverableError', async () => {
    const fake = await fakeEndpoint(() => ({ status: 401, json: { error: 'bad key' } }));
    const sut = new OpenAiEmbedder({
      url: fake.url,
      model: 'm',
      batchSize: 8,
      attempts: 3,
      timeoutMs: 5000,
      backoffMs: 10,
    });
    await expect(sut.embed(['x'])).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: expect.stringContaining('401'),
    });
    fake.close();
    expect(fake.requests).toHaveLength(1);
  });
});
