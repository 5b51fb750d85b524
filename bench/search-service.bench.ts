/**
 * The search indexes as the service runs them, through PostgreSQL (bench:search times the scans
 * alone): one owner with BENCH_CHUNKS chunks (hashing embeddings, 1,000-chunk files) in a
 * throw-away database, then
 *   cold      — a new QuantizedVectorIndex reads every row, saves its matrix, answers one query;
 *   restart   — another new instance (a restarted process) loads the saved matrix, answers one;
 *   p50/p95   — warm queries: version check + int8 scan + reading the 40 candidates' floats;
 *   exact     — ExactVectorIndex's cold load and warm p50 on the same rows.
 *
 * Usage: node -r @swc-node/register bench/search-service.bench.ts   (BENCH_CHUNKS=100000)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSpecDatabase } from '../test/support/spec-database';
import { HashingEmbedder, hashingEmbedding } from '../src/file/embedding/hashing-embedder';
import { ExactVectorIndex } from '../src/file/search/exact-vector-index';
import { QuantizedVectorIndex } from '../src/file/search/quantized-vector-index';
import { VectorIndex } from '../src/file/search/vector-index';
import { fmt, machineLoad, percentile } from './support';

const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const QUERIES = 100;
const MODEL = new HashingEmbedder().model;

async function timedMs(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function main() {
  const db = await createSpecDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'bench-search-service-'));
  const owner = randomUUID();
  try {
    for (let f = 0; f * 1000 < CHUNKS; f++) {
      const id = randomUUID();
      const embeddings = Array.from({ length: Math.min(1000, CHUNKS - f * 1000) }, (_, i) =>
        Buffer.from(hashingEmbedding(`topic${f % 50} w${f}x w${i % 97}q w${(i * 7) % 301}z`).buffer),
      );
      await db.dataSource.query(
        `INSERT INTO files (id, owner, original_name, size, sha256, mime_type, storage_key, status, chunk_count, embedding_model, indexed_at)
         VALUES ($1::uuid, $2, 'a.txt', 1, repeat('0', 64), 'text/plain', $1::text, 'INDEXED', $3, $4, clock_timestamp())`,
        [id, owner, embeddings.length, MODEL],
      );
      await db.dataSource.query(
        `INSERT INTO file_chunks (file_id, ordinal, owner, text, token_count, embedding)
         SELECT $1, ordinal - 1, $2, 'x', 1, e FROM unnest($3::bytea[]) WITH ORDINALITY AS t (e, ordinal)`,
        [id, owner, embeddings],
      );
    }
    await db.dataSource.query(`INSERT INTO file_index_versions (owner, version) VALUES ($1, 1)`, [owner]);
    const query = (i: number) => ({
      owner,
      model: MODEL,
      vector: hashingEmbedding(`topic${i % 50} w${i}x w${i % 97}q`),
      k: 10,
    });
    const warm = async (index: VectorIndex, n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) ms.push(await timedMs(() => index.search(query(i + 3))));
      return ms.sort((a, b) => a - b);
    };
    const options = { directory: dir, maxOwners: 2 };
    const cold = new QuantizedVectorIndex(db.dataSource, options);
    const coldMs = await timedMs(() => cold.search(query(1)));
    await cold.flush();
    const restarted = new QuantizedVectorIndex(db.dataSource, options);
    const restartMs = await timedMs(() => restarted.search(query(2)));
    const quantized = await warm(restarted, QUERIES);
    const exact = new ExactVectorIndex(db.dataSource, 2);
    const exactColdMs = await timedMs(() => exact.search(query(1)));
    const exactWarm = await warm(exact, 30);
    console.log(`${fmt(CHUNKS)} chunks, top 10, through PostgreSQL; ${machineLoad()}`);
    console.log(
      `quantized: cold ${fmt(coldMs)} ms, first query after restart ${fmt(restartMs)} ms, ` +
        `warm p50 ${fmt(percentile(quantized, 50), 1)} ms p95 ${fmt(percentile(quantized, 95), 1)} ms`,
    );
    console.log(`exact:     cold ${fmt(exactColdMs)} ms, warm p50 ${fmt(percentile(exactWarm, 50), 1)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

void main();
