import { UnrecoverableError } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { specTaskContext } from '../../../test/support/spec-task-context';
import { Embedder } from '../embedding/embedder';
import { HashingEmbedder } from '../embedding/hashing-embedder';
import { FileAnalysis } from '../entities/file-analysis.entity';
import { StoredFile } from '../entities/stored-file.entity';
import { FileOptions } from '../file.environment';
import { FileTaskArgs } from '../file.tasks';
import { FilesService } from '../files.service';
import { FileStorage, StorageNotFoundError } from '../storage/file-storage';
import { FileCpuPool } from './file-cpu.pool';
import { FileProcessingService } from './file-processing.service';

const FIXTURES = join(__dirname, '../../../test/fixtures/files');
const OWNER = randomUUID();

/** Contents in memory: the pipeline only reads whole files. */
class MemoryStorage implements FileStorage {
  readonly contents = new Map<string, Buffer>();
  async put(key: string, source: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of source) parts.push(Buffer.from(part));
    this.contents.set(key, Buffer.concat(parts));
  }
  async open(key: string): Promise<Readable> {
    return Readable.from([await this.read(key)]);
  }
  async read(key: string): Promise<Buffer> {
    const content = this.contents.get(key);
    if (!content) throw new StorageNotFoundError(`No content under ${key}`);
    return content;
  }
  async delete(key: string): Promise<void> {
    this.contents.delete(key);
  }
  async exists(key: string): Promise<boolean> {
    return this.contents.has(key);
  }
  async size(key: string): Promise<number> {
    return (await this.read(key)).length;
  }
  async removeIncomplete(): Promise<void> {}
}

/** A remote model: embeds in the main thread; `beforeEmbed` lets a spec act (or fail) mid-run. */
class RemoteEmbedder implements Embedder {
  readonly model = 'spec-remote';
  readonly local = false;
  beforeEmbed?: () => Promise<void>;
  private readonly hashing = new HashingEmbedder();
  async embed(texts: string[]): Promise<Float32Array[]> {
    await this.beforeEmbed?.();
    return this.hashing.embed(texts);
  }
}

const OPTIONS: FileOptions = {
  storageDir: '/nonexistent',
  maxUploadBytes: 1 << 20,
  chunking: { maxTokens: 40, overlapTokens: 5 },
  embedBatch: 4,
};

describe('FileProcessingService: extract, chunk, embed, replace (PostgreSQL)', () => {
  const db = useSpecDatabase([StoredFile, FileAnalysis]);
  const cpu = new FileCpuPool(1);
  const storage = new MemoryStorage();
  let remote: RemoteEmbedder;
  /** With the local embedder (worker threads); `remoteSut` embeds through `remote`. */
  let sut: FileProcessingService;
  let remoteSut: FileProcessingService;

  afterAll(() => cpu.onApplicationShutdown());

  beforeEach(async () => {
    await db.current.empty('file_chunks', 'file_analyses', 'file_index_versions', 'files');
    remote = new RemoteEmbedder();
    sut = processingService();
    remoteSut = processingService(remote);
  });

  function processingService(embedder: Embedder = new HashingEmbedder()): FileProcessingService {
    const records = db.current.repository(StoredFile);
    const { dataSource } = db.current;
    const files = new FilesService(records, db.current.repository(FileAnalysis), storage, OPTIONS, dataSource);
    return new FileProcessingService(files, cpu, dataSource, records, storage, embedder, OPTIONS);
  }

  async function stored(name: string, content: Buffer = readFileSync(join(FIXTURES, name))): Promise<StoredFile> {
    const id = randomUUID();
    const file = Object.assign(new StoredFile(), {
      id,
      owner: OWNER,
      originalName: name,
      size: content.length,
      sha256: '0'.repeat(64),
      mimeType: 'application/octet-stream',
      encoding: null,
      storageKey: `files/${OWNER}/${id}`,
      status: 'UPLOADED',
      chunkCount: 0,
      embeddingModel: null,
      error: null,
      createdAt: new Date(),
      updatedAt: new Date(),
      indexedAt: null,
    } satisfies StoredFile);
    await db.current.repository(StoredFile).insert(file);
    storage.contents.set(file.storageKey, content);
    return file;
  }

  const ctx = (overrides: { owner?: string | null; attempt?: number } = {}) =>
    specTaskContext<FileTaskArgs>({ owner: OWNER, ...overrides });
  const record = (id: string) => db.current.repository(StoredFile).findOneByOrFail({ id });
  const chunks = (id: string): Promise<{ ordinal: number; text: string; token_count: number; bytes: number }[]> =>
    db.current.dataSource.query(
      `SELECT ordinal, text, token_count, length(embedding) AS bytes FROM file_chunks WHERE file_id = $1 ORDER BY ordinal`,
      [id],
    );
  const indexVersion = async () =>
    Number(
      (await db.current.dataSource.query(`SELECT version FROM file_index_versions WHERE owner = $1`, [OWNER]))[0]
        ?.version ?? 0,
    );

  it.each([
    ['en-baking.md', 'text/markdown', 'knead the dough'],
    ['planets.csv', 'text/csv', 'Jupiter'],
    ['books.json', 'application/json', 'A Brief History of Time'],
    ['zh-weather.html', 'text/html', '明天北京多云转小雨'],
    ['volcano.pdf', 'application/pdf', 'A volcano is an opening in the crust'],
    [
      'solar.docx',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'Photovoltaic solar panels',
    ],
    ['fake.pdf', 'text/plain', 'chess openings'],
  ])('extracts %s by its content as %s and indexes its text', async (name, mime, phrase) => {
    const file = await stored(name);
    const result = await sut.process({ fileId: file.id }, ctx());
    expect(result).toMatchObject({ fileId: file.id, status: 'INDEXED', mimeType: mime });
    const rows = await chunks(file.id);
    expect(rows.length).toBe(result.chunks);
    expect(rows.map((r) => r.ordinal)).toEqual(rows.map((_, i) => i));
    expect(rows.map((r) => r.text).join(' ')).toContain(phrase);
    await expect(record(file.id)).resolves.toMatchObject({
      status: 'INDEXED',
      mimeType: mime,
      chunkCount: rows.length,
      embeddingModel: new HashingEmbedder().model,
      error: null,
    });
  });

  it('never indexes what an HTML page hides in scripts and styles', async () => {
    const file = await stored('zh-weather.html');
    await sut.process({ fileId: file.id }, ctx());
    expect((await chunks(file.id)).map((r) => r.text).join(' ')).not.toContain('zebrafish');
  });

  it('stores one float32 vector per chunk, the same from the local threads and a remote model', async () => {
    const local = await stored('en-baking.md');
    const far = await stored('en-baking.md');
    await sut.process({ fileId: local.id }, ctx());
    await remoteSut.process({ fileId: far.id }, ctx());
    const [a, b] = [await chunks(local.id), await chunks(far.id)];
    expect(a.length).toBeGreaterThan(1);
    expect(a.every((r) => r.bytes > 0 && r.bytes % Float32Array.BYTES_PER_ELEMENT === 0)).toBe(true);
    expect(b).toEqual(a);
    const [{ same }] = await db.current.dataSource.query(
      `SELECT bool_and(x.embedding = y.embedding) AS same FROM file_chunks x JOIN file_chunks y USING (ordinal)
       WHERE x.file_id = $1 AND y.file_id = $2`,
      [local.id, far.id],
    );
    expect(same).toBe(true);
    await expect(record(far.id)).resolves.toMatchObject({ embeddingModel: 'spec-remote' });
  });

  it("replaces a file's chunks when it is processed again: one set, of the new content", async () => {
    const file = await stored('notes.txt', Buffer.from('Old words about kettles. '.repeat(40)));
    await sut.process({ fileId: file.id }, ctx());
    const before = await indexVersion();
    storage.contents.set(file.storageKey, Buffer.from('Fresh words about teapots.'));
    const result = await sut.process({ fileId: file.id }, ctx());
    expect(result.chunks).toBe(1);
    await expect(chunks(file.id)).resolves.toEqual([
      { ordinal: 0, text: 'Fresh words about teapots.', token_count: expect.any(Number), bytes: expect.any(Number) },
    ]);
    await expect(record(file.id)).resolves.toMatchObject({ chunkCount: 1 });
    await expect(indexVersion()).resolves.toBe(before + 1);
  });

  it('keeps the previous chunks when a re-process fails, and retries a transient failure', async () => {
    const file = await stored('en-baking.md');
    await remoteSut.process({ fileId: file.id }, ctx());
    const indexed = await chunks(file.id);
    remote.beforeEmbed = async () => {
      throw new Error('embedding endpoint answered 503');
    };
    const run = remoteSut.process({ fileId: file.id }, ctx({ attempt: 1 }));
    await expect(run).rejects.toThrow('embedding endpoint answered 503');
    await expect(run).rejects.not.toBeInstanceOf(UnrecoverableError);
    await expect(chunks(file.id)).resolves.toEqual(indexed);
    await expect(remoteSut.process({ fileId: file.id }, ctx({ attempt: 3 }))).rejects.toThrow('503');
    await expect(record(file.id)).resolves.toMatchObject({
      status: 'FAILED',
      error: 'embedding endpoint answered 503',
    });
  });

  it('fails a file of no supported type at once and records why', async () => {
    const file = await stored('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    const run = sut.process({ fileId: file.id }, ctx());
    await expect(run).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(record(file.id)).resolves.toMatchObject({
      status: 'FAILED',
      error: expect.stringContaining('"image.png" is binary data of no supported type'),
    });
    await expect(chunks(file.id)).resolves.toEqual([]);
  });

  it('fails at once when the content is missing from storage', async () => {
    const file = await stored('gone.txt', Buffer.from('x'));
    storage.contents.delete(file.storageKey);
    await expect(sut.process({ fileId: file.id }, ctx())).rejects.toThrow(
      new UnrecoverableError(`The content of file ${file.id} is missing from storage`),
    );
    await expect(record(file.id)).resolves.toMatchObject({ status: 'FAILED' });
  });

  it("treats another owner's file as not found, and leaves it alone", async () => {
    const file = await stored('en-baking.md');
    await expect(sut.process({ fileId: file.id }, ctx({ owner: randomUUID() }))).rejects.toThrow(
      new UnrecoverableError(`File ${file.id} not found`),
    );
    await expect(record(file.id)).resolves.toMatchObject({ status: 'UPLOADED' });
  });

  it('fails at once, writing no chunks, when the file is deleted while it is being processed', async () => {
    const file = await stored('en-baking.md');
    remote.beforeEmbed = async () =>
      void (await db.current.dataSource.query(`DELETE FROM files WHERE id = $1`, [file.id]));
    await expect(remoteSut.process({ fileId: file.id }, ctx())).rejects.toThrow(
      new UnrecoverableError(`File ${file.id} was deleted while it was being processed`),
    );
    await expect(chunks(file.id)).resolves.toEqual([]);
  });
});
