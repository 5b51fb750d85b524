import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntityManager } from 'typeorm';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { ExactVectorIndex } from './exact-vector-index';
import { QuantizedVectorIndex } from './quantized-vector-index';
import { recallAtK } from './recall';

const DIMENSION = 32;
const MODEL = 'spec-model';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normalised(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** A point near one of `centres` (clustered data, as embeddings of related texts are). */
function near(centre: Float32Array, next: () => number, spread: number): Float32Array {
  return normalised(centre.map((x) => x + (next() - 0.5) * spread));
}

describe('QuantizedVectorIndex (real PostgreSQL)', () => {
  const db = useSpecDatabase();
  let dir: string;
  const owner = randomUUID();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quantized-index-'));
    await db.current.empty('file_chunks', 'files', 'file_index_versions');
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const index = () => new QuantizedVectorIndex(db.current.dataSource, { directory: dir, maxOwners: 4 });

  /** Writes a file's chunks in one statement and bumps the owner's version, as processing does. */
  async function putFile(fileId: string, vectors: Float32Array[]): Promise<void> {
    await db.current.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO files (id, owner, original_name, size, sha256, mime_type, storage_key, status, chunk_count, embedding_model, indexed_at)
         VALUES ($1::uuid, $2, 'a.txt', 1, repeat('0', 64), 'text/plain', $1::text, 'INDEXED', $3, $4, clock_timestamp())
         ON CONFLICT (id) DO UPDATE SET chunk_count = $3, indexed_at = clock_timestamp()`,
        [fileId, owner, vectors.length, MODEL],
      );
      await m.query(`DELETE FROM file_chunks WHERE file_id = $1`, [fileId]);
      await m.query(
        `INSERT INTO file_chunks (file_id, ordinal, owner, text, token_count, embedding)
         SELECT $1, ordinal - 1, $2, 'x', 1, embedding FROM unnest($3::bytea[]) WITH ORDINALITY AS t (embedding, ordinal)`,
        [fileId, owner, vectors.map((v) => Buffer.from(v.buffer))],
      );
      await m.query(
        `INSERT INTO file_index_versions (owner, version) VALUES ($1, 1)
         ON CONFLICT (owner) DO UPDATE SET version = file_index_versions.version + 1`,
        [owner],
      );
    });
  }

  const query = (vector: Float32Array, extra: { fileId?: string; exact?: boolean; k?: number } = {}) => ({
    owner,
    model: MODEL,
    vector,
    k: 3,
    ...extra,
  });

  /** The SQL parameters of every full read of chunk vectors (readSegments) while `run` runs. */
  async function segmentReads(run: () => Promise<unknown>): Promise<string[][]> {
    const spy = jest.spyOn(EntityManager.prototype, 'query');
    await run();
    const reads = spy.mock.calls
      .filter(([sql]) => sql.includes('FROM file_chunks WHERE file_id = ANY'))
      .map(([, params]) => (params as unknown[])[0] as string[]);
    spy.mockRestore();
    return reads;
  }

  it('returns the exact top 10 for ≥ 95% of queries on clustered vectors (recall against ExactVectorIndex)', async () => {
    const next = random(11);
    const centres = Array.from({ length: 20 }, () =>
      normalised(Float32Array.from({ length: DIMENSION }, () => next() - 0.5)),
    );
    for (let f = 0; f < 10; f++)
      await putFile(
        randomUUID(),
        Array.from({ length: 200 }, (_, i) => near(centres[(f * 7 + i) % centres.length], next, 0.6)),
      );
    const exact = new ExactVectorIndex(db.current.dataSource, 4);
    const sut = index();
    const recalls: number[] = [];
    for (let i = 0; i < 40; i++) {
      const q = query(near(centres[i % centres.length], next, 0.8), { k: 10 });
      recalls.push(recallAtK(await exact.search(q), await sut.search(q)));
    }
    expect(recalls.reduce((a, b) => a + b, 0) / recalls.length).toBeGreaterThanOrEqual(0.95);
  });

  it('returns exact scores, with file and ordinal, for the nearest chunks', async () => {
    const next = random(3);
    const vectors = Array.from({ length: 8 }, () =>
      normalised(Float32Array.from({ length: DIMENSION }, () => next() - 0.5)),
    );
    const a = randomUUID();
    const b = randomUUID();
    await putFile(a, vectors.slice(0, 4));
    await putFile(b, vectors.slice(4));
    const [hit] = await index().search(query(vectors[6]));
    expect(hit).toEqual({ fileId: b, ordinal: 2, score: expect.closeTo(1, 5) });
  });

  it('after a restart answers from the saved matrix, and re-reads only a file that changed', async () => {
    const next = random(5);
    const vector = () => normalised(Float32Array.from({ length: DIMENSION }, () => next() - 0.5));
    const a = randomUUID();
    const b = randomUUID();
    const bVectors = [vector(), vector(), vector()];
    await putFile(a, [vector(), vector()]);
    await putFile(b, bVectors);
    const first = index();
    expect(await segmentReads(() => first.search(query(bVectors[1])))).toHaveLength(1);
    await first.flush();
    expect(readdirSync(dir).filter((name) => name.endsWith('.i8'))).toHaveLength(1);

    // A new instance (a restarted process) at the same version reads no chunk vectors at all.
    let hits: unknown[] = [];
    expect(await segmentReads(async () => (hits = await index().search(query(bVectors[1]))))).toEqual([]);
    expect(hits[0]).toMatchObject({ fileId: b, ordinal: 1 });

    const replaced = [vector(), vector(), vector()];
    await putFile(a, replaced);
    const second = index();
    expect(await segmentReads(async () => (hits = await second.search(query(replaced[2]))))).toEqual([[a]]);
    expect(hits[0]).toMatchObject({ fileId: a, ordinal: 2 });
    await second.flush();
    // The changed matrix replaced the saved one (the old matrix file removed), and a third instance reads nothing.
    expect(readdirSync(dir).filter((name) => name.endsWith('.i8'))).toHaveLength(1);
    expect(await segmentReads(async () => (hits = await index().search(query(bVectors[0]))))).toEqual([]);
    expect(hits[0]).toMatchObject({ fileId: b, ordinal: 0 });
  });

  it('forgets a deleted file, and sends one-file and exact queries to the exact scan', async () => {
    const next = random(7);
    const vector = () => normalised(Float32Array.from({ length: DIMENSION }, () => next() - 0.5));
    const a = randomUUID();
    const b = randomUUID();
    const aVectors = [vector(), vector()];
    await putFile(a, aVectors);
    await putFile(b, [vector(), vector()]);
    const sut = index();
    expect((await sut.search(query(aVectors[0], { fileId: b }))).every((h) => h.fileId === b)).toBe(true);
    expect((await sut.search(query(aVectors[1], { exact: true })))[0]).toMatchObject({ fileId: a, ordinal: 1 });
    await db.current.dataSource.query(`DELETE FROM files WHERE id = $1`, [a]);
    await db.current.dataSource.query(`UPDATE file_index_versions SET version = version + 1 WHERE owner = $1`, [owner]);
    expect((await sut.search(query(aVectors[0]))).every((h) => h.fileId === b)).toBe(true);
  });
});
