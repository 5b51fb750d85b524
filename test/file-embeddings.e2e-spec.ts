import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashingEmbedding } from '../src/file/embedding/hashing-embedder';
import { uploadFixture } from './fixtures/file-api';
import { startTestService, TestService } from './support/test-service';

/**
 * A local fake of an OpenAI-compatible /embeddings endpoint: answers 503 to every third
 * request (the service must retry), otherwise 64-dim vectors derived from the text.
 */
function startFakeEmbeddings(): Promise<{
  url: string;
  server: Server;
  requests: { input: string[]; model: string; authorization?: string; status: number }[];
}> {
  const requests: { input: string[]; model: string; authorization?: string; status: number }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw);
      const status = requests.length % 3 === 0 ? 503 : 200;
      requests.push({ input: body.input, model: body.model, authorization: req.headers.authorization, status });
      if (status !== 200) return res.writeHead(status).end('{"error":"overloaded"}');
      const data = body.input.map((text: string, index: number) => ({
        object: 'embedding',
        index,
        embedding: [...hashingEmbedding(text, 64)].map((x) => x * 3),
      }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', model: body.model, data }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/embeddings`, server, requests }),
    ),
  );
}

describe('Files with an OpenAI-compatible embeddings endpoint (local fake server)', () => {
  let svc: TestService;
  let fake: Awaited<ReturnType<typeof startFakeEmbeddings>>;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeEmbeddings();
    dir = await mkdtemp(join(tmpdir(), 'file-embeddings-'));
    svc = await startTestService({
      STORAGE_DIR: dir,
      EMBEDDINGS_URL: fake.url,
      EMBEDDINGS_MODEL: 'fake-embed-1',
      EMBEDDINGS_API_KEY: 'sk-test',
      EMBEDDINGS_BATCH_SIZE: '2',
      CHUNK_TOKENS: '60',
      CHUNK_OVERLAP_TOKENS: '10',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    fake?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('embeds chunks and queries through the endpoint, in batches, retrying failures', async () => {
    const api = await svc.newClient();
    const uploads = await Promise.all(
      ['en-vectors.txt', 'zh-tea.txt', 'en-baking.md'].map((name) => uploadFixture(api, name)),
    );
    for (const u of uploads)
      expect(await api.waitForTask(u.task!.id)).toMatchObject({
        state: 'SUCCESS',
        attempts: 1,
        result: { embeddingModel: 'openai:fake-embed-1' },
      });
    const file = (await api.get(`/files/${uploads[0].file.id}`)).body;
    expect(file).toMatchObject({ status: 'INDEXED', embeddingModel: 'openai:fake-embed-1' });

    expect(fake.requests.some((r) => r.status === 503)).toBe(true);
    expect(
      fake.requests.every(
        (r) => r.input.length <= 2 && r.model === 'fake-embed-1' && r.authorization === 'Bearer sk-test',
      ),
    ).toBe(true);

    const search = await api.get(`/files/search?q=${encodeURIComponent('乌龙茶的冲泡')}&k=2`);
    expect(search.status).toBe(200);
    expect(search.body.hits[0].fileName).toBe('zh-tea.txt');
    const english = await api.get(`/files/search?q=${encodeURIComponent('cosine similarity nearest neighbours')}&k=2`);
    expect(english.body.hits[0].fileName).toBe('en-vectors.txt');
  });
});
