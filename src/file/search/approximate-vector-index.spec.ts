import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useSpecDatabase } from '../../../test/support/spec-database';
import { ApproximateVectorIndex } from './approximate-vector-index';

const DIMENSION = 16;
const MODEL = 'spec-model';

function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIMENSION }, (_, d) => Math.sin(seed * 12.9898 + d * 78.233));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

describe('ApproximateVectorIndex (real PostgreSQL)', () => {
  const db = useSpecDatabase();
  let dir: string;
  const owner = randomUUID();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ann-index-'));
    await db.current.empty('file_chunks', 'files', 'file_index_versions');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const index = () =>
    new ApproximateVectorIndex(db.current.dataSource, { directory: dir, maxOwners: 4, exactBelow: 0 });

  /** Writes a file's chunks (one vector per seed) and bumps the owner's version, as processing does. */
  async function putFile(fileId: string, seeds: number[]): Promise<void> {
    await db.current.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO files (id, owner, original_name, size, sha256, mime_type, storage_key, status, chunk_count, embedding_model, indexed_at)
         VALUES ($1::uuid, $2, 'a.txt', 1, repeat('0', 64), 'text/plain', $1::text, 'INDEXED', $3, $4, clock_timestamp())
         ON CONFLICT (id) DO UPDATE SET chunk_count = $3, indexed_at = clock_timestamp()`,
        [fileId, owner, seeds.length, MODEL],
      );
      await m.query(`DELETE FROM file_chunks WHERE file_id = $1`, [fileId]);
      for (const [ordinal, seed] of seeds.entries())
        await m.query(
          `INSERT INTO file_chunks (file_id, ordinal, owner, text, token_count, embedding) VALUES ($1, $2, $3, 'x', 1, $4)`,
          [fileId, ordinal, owner, Buffer.from(unit(seed).buffer)],
        );
      await m.query(
        `INSERT INTO file_index_versions (owner, version) VALUES ($1, 1)
         ON CONFLICT (owner) DO UPDATE SET version = file_index_versions.version + 1`,
        [owner],
      );
    });
  }

  const query = (seed: number, extra: { fileId?: string; exact?: boolean } = {}) => ({
    owner,
    model: MODEL,
    vector: unit(seed),
    k: 3,
    ...extra,
  });

  it('finds the stored chunk nearest to the query, with its file and ordinal', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await putFile(a, [1, 2, 3, 4]);
    await putFile(b, [5, 6, 7, 8]);
    const [hit] = await index().search(query(7));
    expect(hit).toEqual({ fileId: b, ordinal: 2, score: expect.closeTo(1, 3) });
  });

  it('follows a file whose chunks were replaced, and forgets a deleted one', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await putFile(a, [1, 2, 3]);
    await putFile(b, [4, 5]);
    const sut = index();
    expect((await sut.search(query(2)))[0].fileId).toBe(a);
    await putFile(a, [10, 11]);
    const hits = await sut.search(query(11));
    expect(hits[0]).toMatchObject({ fileId: a, ordinal: 1 });
    expect(hits.every((h) => h.fileId !== a || h.ordinal < 2)).toBe(true);
    await db.current.dataSource.query(`DELETE FROM files WHERE id = $1`, [a]);
    await db.current.dataSource.query(`UPDATE file_index_versions SET version = version + 1 WHERE owner = $1`, [owner]);
    expect((await sut.search(query(11))).every((h) => h.fileId === b)).toBe(true);
  });

  it('after a restart answers from the saved graph without reading the chunks again', async () => {
    const a = randomUUID();
    await putFile(a, [1, 2, 3, 4, 5]);
    expect((await index().search(query(4)))[0].ordinal).toBe(3);
    // The version is unchanged, so a new instance must not need the rows: remove them behind its back.
    await db.current.empty('file_chunks');
    const [hit] = await index().search(query(4));
    expect(hit).toMatchObject({ fileId: a, ordinal: 3 });
  });

  it('sends one-file and exact queries to the exact scan', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await putFile(a, [1, 2]);
    await putFile(b, [3, 4]);
    const sut = index();
    expect((await sut.search(query(3, { fileId: a }))).every((h) => h.fileId === a)).toBe(true);
    expect((await sut.search(query(3, { exact: true })))[0]).toMatchObject({ fileId: b, ordinal: 0 });
  });
});
