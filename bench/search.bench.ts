/**
 * Semantic search at scale, index against index on the same vectors (no database in the timed
 * part): the exact scan (`exactScan`, what ExactVectorIndex runs), the approximate HNSW graph
 * (`AnnGraph`, what ApproximateVectorIndex runs) and the int8 matrix with float rescoring
 * (`QuantizedMatrix` + `exactScan`, what QuantizedVectorIndex runs), at 100k and 1M chunks of
 * 1,000-chunk files.
 * Vectors come from the service's own embedder (hashing, 256 dims) over generated text (see
 * textSource), so their distribution is the one search sees.
 *   build     — adding every vector to the graph (usearch, all cores);
 *   p50/p95   — one query at a time, top 10;
 *   recall@10 — share of the exact top 10 the graph returns, a chunk tied with the exact 10th
 *               counting as found (in brackets: by chunk id alone);
 *   restart   — a new process opens the saved graph and answers one query (wall time); for the
 *               int8 matrix: reads the saved matrix and takes one query's candidates;
 *   int8 MB   — heap + ArrayBuffers the matrix keeps (after a GC); build ms — quantise + concatenate.
 * Targets (issue #11): p50 ≤ 20 ms at 100k, ≤ 50 ms at 1M; recall@10 ≥ 0.95; first query after
 * restart ≤ 200 ms.
 *
 * Usage: npm run bench:search   (BENCH_SEARCH_SIZES=100000,1000000  BENCH_QUERIES=200
 *        BENCH_QUANTIZATION=f16  BENCH_EF_SEARCH=128  BENCH_GRAPH_MAX=0 (no graph)  BENCH_OVERSAMPLE=4)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HASHING_DIMENSION, hashingEmbedding } from '../src/file/embedding/hashing-embedder';
import { AnnGraph, AnnSettings, DEFAULT_ANN_SETTINGS } from '../src/file/search/ann-graph';
import { Segment } from '../src/file/search/chunk-vectors';
import { exactScan } from '../src/file/search/exact-vector-index';
import { Candidate, QuantizedMatrix } from '../src/file/search/quantized-matrix';
import { recallAtK } from '../src/file/search/recall';
import { VectorHit } from '../src/file/search/vector-index';
import { fmt, machineLoad, percentile } from './support';

const SIZES = (process.env.BENCH_SEARCH_SIZES ?? '100000,1000000').split(',').filter(Boolean).map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const FILE_CHUNKS = 1000;
/** Sizes above this skip the graph (its build runs at ≈ 700 vectors/s on a busy 2-core box). */
const GRAPH_MAX = Number(process.env.BENCH_GRAPH_MAX ?? 1_000_000);
const TOPICS = Number(process.env.BENCH_TOPICS ?? 500);
/** Int8 candidates per result that QuantizedVectorIndex rescores (its default). */
const OVERSAMPLE = Number(process.env.BENCH_OVERSAMPLE ?? 4);
const SETTINGS: AnnSettings = {
  ...DEFAULT_ANN_SETTINGS,
  quantization: (process.env.BENCH_QUANTIZATION as AnnSettings['quantization']) ?? DEFAULT_ANN_SETTINGS.quantization,
  expansionAdd: Number(process.env.BENCH_EF_ADD ?? DEFAULT_ANN_SETTINGS.expansionAdd),
  expansionSearch: Number(process.env.BENCH_EF_SEARCH ?? DEFAULT_ANN_SETTINGS.expansionSearch),
};

/**
 * Deterministic text (mulberry32) shaped like documents: each file has a topic of 200 words out of
 * a 20,000-word vocabulary; a chunk draws 80% of its words from its file's topic and the rest
 * from the whole vocabulary (Zipf). A query is 3–6 words of one topic. `BENCH_TOPICS=0`: every word
 * from the Zipf vocabulary (no structure: the worst case for a graph index).
 */
function textSource(seed: number) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const vocabulary = Array.from({ length: 20_000 }, (_, i) => `w${(i * 7919).toString(36)}x`);
  const zipf = () => vocabulary[Math.floor(Math.exp(random() * Math.log(vocabulary.length))) - 1];
  const topicWord = (topic: number) =>
    vocabulary[(topic * 7_333 + Math.floor(random() * 200) * 101) % vocabulary.length];
  return (words: number, topic: number) =>
    Array.from({ length: words }, () => (TOPICS > 0 && random() < 0.8 ? topicWord(topic % TOPICS) : zipf())).join(' ');
}

// A collection before reading the heap, so the figure is what the matrix keeps, not its garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** JavaScript heap plus ArrayBuffer backing stores (where typed arrays live), after a full collection. */
function heldBytes(): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The graph's hits with exact (unquantised) scores, so ties at the cut-off are judged fairly. */
function rescored(segments: Segment[], hits: VectorHit[], q: Float32Array): VectorHit[] {
  return hits.map((hit) => {
    const segment = segments[Number(hit.fileId.slice('file-'.length))];
    const base = hit.ordinal * segment.dimension;
    let score = 0;
    for (let d = 0; d < segment.dimension; d++) score += segment.vectors[base + d] * q[d];
    return { ...hit, score };
  });
}

function timed<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

async function runSize(size: number, dir: string) {
  const text = textSource(size);
  const segments: Segment[] = [];
  for (let f = 0; f * FILE_CHUNKS < size; f++) {
    const count = Math.min(FILE_CHUNKS, size - f * FILE_CHUNKS);
    const vectors = new Float32Array(count * HASHING_DIMENSION);
    for (let row = 0; row < count; row++)
      vectors.set(hashingEmbedding(text(30 + (row % 40), f)), row * HASHING_DIMENSION);
    const ordinals = Int32Array.from({ length: count }, (_, i) => i);
    segments.push({ fileId: `file-${f}`, fingerprint: 'v1', count, dimension: HASHING_DIMENSION, vectors, ordinals });
  }
  // What QuantizedVectorIndex runs: the int8 matrix's candidates rescored with float vectors (held
  // in memory here; the service reads those ~40 rows from file_chunks by primary key).
  const int8Before = heldBytes();
  const [matrix, matrixBuildMs] = timed(() => {
    const m = new QuantizedMatrix(HASHING_DIMENSION, '1', 'bench');
    for (const s of segments) m.upsertFile(s.fileId, s.fingerprint, s.vectors, s.ordinals);
    m.candidates(segments[0].vectors.subarray(0, HASHING_DIMENSION), 1);
    return m;
  });
  const int8Mb = (heldBytes() - int8Before) / 2 ** 20;
  const matrixPath = join(dir, `matrix-${size}.json`);
  await matrix.save(matrixPath);
  const floatsOf = (candidates: Candidate[]): Segment[] =>
    candidates.map(({ fileId, ordinal }) => {
      const s = segments[Number(fileId.slice('file-'.length))];
      const vectors = s.vectors.subarray(ordinal * s.dimension, (ordinal + 1) * s.dimension);
      return { fileId, fingerprint: '', count: 1, dimension: s.dimension, vectors, ordinals: Int32Array.of(ordinal) };
    });
  const quantizedSearch = (q: Float32Array): VectorHit[] =>
    exactScan(floatsOf(matrix.candidates(q, 10 * OVERSAMPLE)), q, 10);
  const rssBefore = process.memoryUsage().rss;
  const graph = size <= GRAPH_MAX ? new AnnGraph(HASHING_DIMENSION, SETTINGS, '1', 'bench') : undefined;
  const [, buildMs] = timed(() => {
    for (const s of graph ? segments : []) graph!.upsertFile(s.fileId, s.fingerprint, s.vectors, s.ordinals);
  });
  const graphMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const path = join(dir, `owner-${size}.json`);
  const [, saveMs] = timed(() => graph?.save(path));

  const queryText = textSource(size + 1);
  const queries = Array.from({ length: QUERIES }, (_, i) => hashingEmbedding(queryText(3 + (i % 4), i * 37)));
  const exactMs: number[] = [];
  const annMs: number[] = [];
  const recalls: number[] = [];
  const idRecalls: number[] = [];
  const int8Ms: number[] = [];
  const int8Recalls: number[] = [];
  for (const q of queries) {
    const [exact, e] = timed(() => exactScan(segments, q, 10));
    exactMs.push(e);
    if (graph) {
      const [approximate, a] = timed(() => graph.search(q, 10));
      annMs.push(a);
      recalls.push(recallAtK(exact, rescored(segments, approximate, q)));
      idRecalls.push(recallAtK(exact, approximate, -Infinity));
    }
    const [scanned, i8] = timed(() => quantizedSearch(q));
    int8Ms.push(i8);
    int8Recalls.push(recallAtK(exact, scanned));
  }
  exactMs.sort((a, b) => a - b);
  annMs.sort((a, b) => a - b);
  int8Ms.sort((a, b) => a - b);
  const restartMs = graph ? firstQueryAfterRestart(path) : NaN;
  const int8RestartMs = firstQuantizedQueryAfterRestart(matrixPath);
  return {
    size,
    buildMs,
    saveMs,
    graphMb,
    exact: exactMs,
    ann: annMs,
    recall: mean(recalls),
    idRecall: mean(idRecalls),
    int8: int8Ms,
    int8Recall: mean(int8Recalls),
    restartMs,
    matrixBuildMs,
    int8Mb,
    int8RestartMs,
  };
}

/** A fresh Node process (modules loaded, as in a started service): open the saved graph and answer one query, ms. */
function firstQueryAfterRestart(path: string): number {
  const script = `
const { AnnGraph } = require('../src/file/search/ann-graph');
const { hashingEmbedding } = require('../src/file/embedding/hashing-embedder');
const start = performance.now();
const graph = AnnGraph.open(${JSON.stringify(path)});
const hits = graph.search(hashingEmbedding('w1x w2fx search'), 10);
if (hits.length !== 10) throw new Error('restart query found ' + hits.length);
console.log(performance.now() - start);`;
  const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: __dirname });
  return Number(out.toString().trim().split('\n').pop());
}

/** A fresh Node process: read the saved int8 matrix and take one query's candidates, ms (the float rescoring is one indexed SELECT in the service). */
function firstQuantizedQueryAfterRestart(path: string): number {
  const script = `
const { QuantizedMatrix } = require('../src/file/search/quantized-matrix');
const { hashingEmbedding } = require('../src/file/embedding/hashing-embedder');
const start = performance.now();
const matrix = QuantizedMatrix.open(${JSON.stringify(path)});
const hits = matrix.candidates(hashingEmbedding('w1x w2fx search'), ${10 * OVERSAMPLE});
if (hits.length !== ${10 * OVERSAMPLE}) throw new Error('restart query found ' + hits.length);
console.log(performance.now() - start);`;
  const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: __dirname });
  return Number(out.toString().trim().split('\n').pop());
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-search-'));
  try {
    console.log(
      `${QUERIES} queries, top 10, ${HASHING_DIMENSION}-dim hashing embeddings; HNSW M=${SETTINGS.connectivity} ` +
        `ef_add=${SETTINGS.expansionAdd} ef_search=${SETTINGS.expansionSearch} ${SETTINGS.quantization}; ${machineLoad()}\n`,
    );
    console.log(
      'chunks      exact p50  p95    HNSW p50  p95    recall@10 (ids)  build s  graph MB  save ms  restart+1st query ms' +
        `   int8×${OVERSAMPLE} p50  p95  recall  build ms  MB  restart ms`,
    );
    for (const size of SIZES) {
      const r = await runSize(size, dir);
      console.log(
        [
          fmt(r.size).padEnd(10),
          fmt(percentile(r.exact, 50), 1).padStart(9),
          fmt(percentile(r.exact, 95), 1).padStart(6),
          fmt(percentile(r.ann, 50), 2).padStart(10),
          fmt(percentile(r.ann, 95), 2).padStart(6),
          `${fmt(r.recall, 3)} (${fmt(r.idRecall, 2)})`.padStart(16),
          fmt(r.buildMs / 1000, 1).padStart(8),
          fmt(r.graphMb, 0).padStart(9),
          fmt(r.saveMs, 0).padStart(8),
          fmt(r.restartMs, 0).padStart(9),
          fmt(percentile(r.int8, 50), 1).padStart(14),
          fmt(percentile(r.int8, 95), 1).padStart(5),
          fmt(r.int8Recall, 3).padStart(7),
          fmt(r.matrixBuildMs, 0).padStart(9),
          fmt(r.int8Mb, 0).padStart(4),
          fmt(r.int8RestartMs, 0).padStart(11),
        ].join(' '),
      );
    }
    console.log(`\nend: ${machineLoad()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
