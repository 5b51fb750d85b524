import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import { fixtureBytes, uploadChunked, uploadFile, uploadFixture } from './fixtures/file-api';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

const MAX_UPLOAD_BYTES = 1024 * 1024;

const SUPPORTED: [fixture: string, mime: string][] = [
  ['en-vectors.txt', 'text/plain'],
  ['en-baking.md', 'text/markdown'],
  ['zh-tea.txt', 'text/plain'],
  ['zh-weather.html', 'text/html'],
  ['planets.csv', 'text/csv'],
  ['books.json', 'application/json'],
  ['volcano.pdf', 'application/pdf'],
  ['solar.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['fake.pdf', 'text/plain'],
  ['counts.txt', 'text/plain'],
];

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('Files: upload, process_file, search, analyze_file (PostgreSQL + Redis + disk)', () => {
  let svc: TestService;
  let api: ApiClient;
  let other: ApiClient;
  let db: Client;
  let storageDir: string;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'file-e2e-storage-'));
    svc = await startTestService({
      STORAGE_DIR: storageDir,
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      CHUNK_TOKENS: '120',
      CHUNK_OVERLAP_TOKENS: '20',
    });
    api = await svc.newClient('files-owner');
    other = await svc.newClient('files-other');
    db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
    const uploads = await Promise.all(SUPPORTED.map(([name]) => uploadFixture(api, name)));
    uploads.forEach((u, i) => ids.set(SUPPORTED[i][0], u.file.id));
    await Promise.all(uploads.map((u) => api.waitForTask(u.task!.id)));
  });
  afterAll(async () => {
    await db?.end();
    await svc?.stop();
  });

  it.each(SUPPORTED)('indexes %s, sniffed as %s from its content', async (name, mime) => {
    const file = (await api.get(`/files/${ids.get(name)}`)).body;
    expect(file).toMatchObject({
      name,
      mimeType: mime,
      status: 'INDEXED',
      error: null,
      embeddingModel: 'local-hashing-v1-256',
    });
    expect(file.chunkCount).toBeGreaterThan(0);
    const bytes = await fixtureBytes(name);
    expect(file).toMatchObject({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, min(token_count) AS min FROM file_chunks WHERE file_id = $1`,
      [file.id],
    );
    expect(rows[0].n).toBe(file.chunkCount);
    expect(rows[0].min).toBeGreaterThan(0);
  });

  it('drops HTML scripts and styles before indexing', async () => {
    const { rows } = await db.query(`SELECT string_agg(text, ' ') AS text FROM file_chunks WHERE file_id = $1`, [
      ids.get('zh-weather.html'),
    ]);
    expect(rows[0].text).toContain('明天北京多云转小雨');
    expect(rows[0].text).not.toMatch(/zebrafish|<p>|color:/);
  });

  it.each([
    ['cosine similarity of embedding vectors', 'en-vectors.txt'],
    ['knead the dough and let the yeast rise', 'en-baking.md'],
    ['volcanic eruption magma lava', 'volcano.pdf'],
    ['solar panels photovoltaic electricity', 'solar.docx'],
    ['Sicilian chess openings', 'fake.pdf'],
    ['乌龙茶和绿茶怎么冲泡', 'zh-tea.txt'],
    ['明天会下雨吗，气温多少度', 'zh-weather.html'],
  ])('search "%s" ranks %s first', async (q, expected) => {
    const response = await api.get(`/files/search?q=${encodeURIComponent(q)}&k=3`);
    expect(response.status).toBe(200);
    expect(response.body.hits.length).toBeGreaterThan(0);
    const [best] = response.body.hits;
    expect(best).toMatchObject({
      fileId: ids.get(expected),
      fileName: expected,
      ordinal: expect.any(Number),
      snippet: expect.any(String),
    });
    expect(best.score).toBeGreaterThan(response.body.hits[1]?.score ?? -1);
  });

  it('restricts search to one file with fileId and validates the query', async () => {
    const response = await api.get(
      `/files/search?q=${encodeURIComponent('乌龙茶')}&fileId=${ids.get('en-vectors.txt')}&k=5`,
    );
    expect(response.status).toBe(200);
    expect(response.body.hits.every((h: { fileId: string }) => h.fileId === ids.get('en-vectors.txt'))).toBe(true);
    expect((await api.get('/files/search?q=')).status).toBe(400);
    expect((await api.get('/files/search?q=x&k=1000')).status).toBe(400);
  });

  it('fails a corrupt PDF at once with a clear error, without retrying', async () => {
    const { file, task } = await uploadFixture(api, 'corrupt.pdf');
    const done = await api.waitForTask(task!.id);
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1 });
    expect(done.error.message).toMatch(/not a readable PDF/);
    const record = (await api.get(`/files/${file.id}`)).body;
    expect(record).toMatchObject({ status: 'FAILED', mimeType: 'application/pdf' });
    expect(record.error).toMatch(/not a readable PDF/);
  });

  it('re-processing (even twice at once) leaves exactly one set of chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'file-e2e-'));
    const path = join(dir, 'long.txt');
    await writeFile(
      path,
      Array.from(
        { length: 60 },
        (_, i) => `Paragraph ${i} about rivers and ${'water flows downhill '.repeat(12)}`,
      ).join('\n\n'),
    );
    const { file, task } = await uploadFile(api, path).then((r) => r.body);
    await api.waitForTask(task.id);
    const first = (await api.get(`/files/${file.id}`)).body;
    expect(first.chunkCount).toBeGreaterThan(5);
    const again = await Promise.all([
      api.submit('tasks.file.process_file', { fileId: file.id }),
      api.submit('tasks.file.process_file', { fileId: file.id }),
    ]);
    for (const t of again)
      expect(await api.waitForTask(t.id)).toMatchObject({ state: 'SUCCESS', result: { chunks: first.chunkCount } });
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT ordinal)::int AS distinct_ordinals, max(ordinal) AS max FROM file_chunks WHERE file_id = $1`,
      [file.id],
    );
    expect(rows[0]).toEqual({ n: first.chunkCount, distinct_ordinals: first.chunkCount, max: first.chunkCount - 1 });
  });

  it('refuses an upload over the limit with 413 and leaves no file behind', async () => {
    const before = filesUnder(storageDir).length;
    const dir = await mkdtemp(join(tmpdir(), 'file-e2e-'));
    const path = join(dir, 'big.txt');
    await writeFile(path, 'x'.repeat(MAX_UPLOAD_BYTES * 3));
    expect((await uploadFile(api, path)).status).toBe(413);
    // Without Content-Length only the streaming limit can stop it: the partial file is removed.
    const chunked = await uploadChunked(api, 'stream.txt', MAX_UPLOAD_BYTES + 200 * 1024);
    expect(chunked.status).toBe(413);
    expect(chunked.body?.message).toMatch(/upload limit/);
    expect(filesUnder(storageDir)).toHaveLength(before);
    const names = (await api.get('/files?limit=200')).body.items.map((f: { name: string }) => f.name);
    expect(names).not.toContain('big.txt');
    expect(names).not.toContain('stream.txt');
  });

  it('removes the partial file when the client goes away mid-upload', async () => {
    const before = filesUnder(storageDir).length;
    const boundary = 'abort-boundary';
    const request = httpRequest(`${api.baseUrl}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    request.on('error', () => undefined);
    request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.txt"\r\n\r\n`);
    request.write(Buffer.alloc(200 * 1024, 'b'));
    await new Promise((r) => setTimeout(r, 300));
    expect(filesUnder(storageDir).some((p) => p.includes('.partial-'))).toBe(true);
    request.destroy();
    const deadline = Date.now() + 5000;
    while (filesUnder(storageDir).length !== before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(filesUnder(storageDir)).toHaveLength(before);
  });

  it('stores without processing when process=false, and sanitises the name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'file-e2e-'));
    await writeFile(join(dir, 'n.txt'), 'hello');
    const response = await uploadFile(api, join(dir, 'n.txt'), {
      name: '../../etc/pass<w>d|.txt',
      query: '?process=false',
    });
    expect(response).toMatchObject({ status: 201, body: { task: null } });
    expect(response.body.task).toBeNull();
    expect(response.body.file).toMatchObject({ name: 'passwd.txt', status: 'UPLOADED', size: 5 });
  });

  it('analyses files and stores figures that match the fixtures', async () => {
    const names = ['counts.txt', 'planets.csv', 'books.json', 'en-baking.md', 'volcano.pdf', 'zh-tea.txt'];
    const tasks = await Promise.all(names.map((n) => api.submit('tasks.file.analyze_file', { fileId: ids.get(n) })));
    for (const t of tasks) expect((await api.waitForTask(t.id)).state).toBe('SUCCESS');
    const get = async (n: string) => (await api.get(`/files/${ids.get(n)}/analysis`)).body;
    expect(await get('counts.txt')).toMatchObject({
      type: 'text/plain',
      encoding: 'utf-8',
      sizeBytes: 49,
      characters: 37,
      words: 7,
      cjkCharacters: 4,
      lines: 3,
      structure: null,
    });
    expect(await get('planets.csv')).toMatchObject({
      type: 'text/csv',
      lines: 9,
      structure: { header: ['name', 'diameter_km', 'moons', 'type'], columns: 4, rows: 8 },
    });
    expect(await get('books.json')).toMatchObject({
      type: 'application/json',
      structure: { valid: true, topLevelKeys: ['library', 'opened', 'books', 'open'] },
    });
    const md = await get('en-baking.md');
    expect(md.structure.headings.map((h: { text: string }) => h.text)).toEqual([
      'Baking bread at home',
      'Making the dough',
      'Proofing',
      'Baking',
    ]);
    expect(md.language.code).toBe('en');
    expect(md.keywords[0]).toEqual({ word: 'dough', count: 4 });
    expect(await get('volcano.pdf')).toMatchObject({
      type: 'application/pdf',
      encoding: null,
      structure: { pages: 2 },
    });
    const zh = await get('zh-tea.txt');
    expect(zh).toMatchObject({ language: { code: 'zh' }, cjkCharacters: 140, lines: 7 });
    expect(
      zh.keywords
        .slice(0, 2)
        .map((k: { word: string }) => k.word)
        .sort(),
    ).toEqual(['乌龙茶', '绿茶']);
  });

  it("answers 404 on every route for another client's file", async () => {
    const id = ids.get('en-vectors.txt');
    for (const path of [
      `/files/${id}`,
      `/files/${id}/content`,
      `/files/${id}/analysis`,
      `/files/search?q=vector&fileId=${id}`,
    ]) {
      expect({ path, status: (await other.get(path)).status }).toEqual({ path, status: 404 });
    }
    expect((await other.delete(`/files/${id}`)).status).toBe(404);
    expect((await other.get('/files')).body.items).toEqual([]);
    expect((await other.get('/files/search?q=vector%20search')).body.hits).toEqual([]);
    const stolen = await other.waitForTask((await other.submit('tasks.file.process_file', { fileId: id })).id);
    expect(stolen).toMatchObject({ state: 'FAILURE', attempts: 1, error: { message: `File ${id} not found` } });
    expect((await api.get(`/files/${id}`)).body.status).toBe('INDEXED');
  });

  it('downloads the content as uploaded, then deletes content, chunks and analysis', async () => {
    const id = ids.get('counts.txt')!;
    const response = await fetch(`${api.baseUrl}/files/${id}/content`, {
      headers: { authorization: `Bearer ${api.apiKey}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain('counts.txt');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(await fixtureBytes('counts.txt'));
    const stored = filesUnder(storageDir).find((p) => p.endsWith(id))!;
    expect(existsSync(stored)).toBe(true);
    expect((await api.delete(`/files/${id}`)).status).toBe(204);
    expect((await api.get(`/files/${id}`)).status).toBe(404);
    expect(existsSync(stored)).toBe(false);
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM file_chunks WHERE file_id = $1)::int AS chunks, (SELECT count(*) FROM file_analyses WHERE file_id = $1)::int AS analyses`,
      [id],
    );
    expect(rows[0]).toEqual({ chunks: 0, analyses: 0 });
    const hits = (await api.get(`/files/search?q=${encodeURIComponent('Hello world')}&k=20`)).body.hits;
    expect(hits.map((h: { fileId: string }) => h.fileId)).not.toContain(id);
  });
});
