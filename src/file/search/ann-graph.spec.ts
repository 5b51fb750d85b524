import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnGraph, DEFAULT_ANN_SETTINGS } from './ann-graph';
import { exactScan } from './exact-vector-index';
import { recallAtK } from './recall';

const DIMENSION = 64;

/** Deterministic pseudo-random unit vectors (mulberry32), clustered like real embeddings. */
function clusteredVectors(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const centres = Array.from({ length: 20 }, () => Array.from({ length: DIMENSION }, () => random() - 0.5));
  const out = new Float32Array(count * DIMENSION);
  for (let row = 0; row < count; row++) {
    const centre = centres[row % centres.length];
    let norm = 0;
    for (let d = 0; d < DIMENSION; d++) {
      const value = centre[d] + (random() - 0.5) * 0.8;
      out[row * DIMENSION + d] = value;
      norm += value * value;
    }
    for (let d = 0; d < DIMENSION; d++) out[row * DIMENSION + d] /= Math.sqrt(norm);
  }
  return out;
}

const ordinals = (count: number) => Int32Array.from({ length: count }, (_, i) => i);

describe('AnnGraph', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ann-graph-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds at least 95% of the exact top 10 on a random clustered set', () => {
    const files = [0, 1, 2, 3].map((f) => ({ id: `file-${f}`, vectors: clusteredVectors(1000, f + 1) }));
    const graph = new AnnGraph(DIMENSION, DEFAULT_ANN_SETTINGS);
    for (const file of files) graph.upsertFile(file.id, 'v1', file.vectors, ordinals(1000));
    const queries = clusteredVectors(50, 99);
    const recalls = [];
    for (let q = 0; q < 50; q++) {
      const query = queries.subarray(q * DIMENSION, (q + 1) * DIMENSION);
      const segments = files.map((f) => ({
        ...f,
        fileId: f.id,
        count: 1000,
        ordinals: ordinals(1000),
        dimension: DIMENSION,
      }));
      const exact = exactScan(segments, query, 10);
      recalls.push(recallAtK(exact, graph.search(query, 10)));
    }
    expect(graph.size).toBe(4000);
    expect(recalls.reduce((a, b) => a + b, 0) / recalls.length).toBeGreaterThanOrEqual(0.95);
  });

  it('reports cosine similarity and the chunk ordinal of each hit', () => {
    const vectors = clusteredVectors(10, 7);
    const graph = new AnnGraph(DIMENSION, DEFAULT_ANN_SETTINGS);
    graph.upsertFile('f', 'v1', vectors, Int32Array.from([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
    const [hit] = graph.search(vectors.subarray(3 * DIMENSION, 4 * DIMENSION), 1);
    expect(hit.fileId).toBe('f');
    expect(hit.ordinal).toBe(8);
    expect(hit.score).toBeCloseTo(1, 2);
  });

  it('replaces and removes a file’s vectors', () => {
    const graph = new AnnGraph(DIMENSION, DEFAULT_ANN_SETTINGS);
    graph.upsertFile('a', 'v1', clusteredVectors(100, 1), ordinals(100));
    graph.upsertFile('b', 'v1', clusteredVectors(100, 2), ordinals(100));
    graph.upsertFile('a', 'v2', clusteredVectors(40, 3), ordinals(40));
    expect(graph.size).toBe(140);
    expect(graph.fingerprint('a')).toBe('v2');
    graph.removeFile('b');
    expect(graph.size).toBe(40);
    const hits = graph.search(clusteredVectors(1, 2), 10);
    expect(hits.every((h) => h.fileId === 'a' && h.ordinal < 40)).toBe(true);
  });

  it('reopens a saved graph with the same answers, and can be changed after reopening', () => {
    const graph = new AnnGraph(DIMENSION, DEFAULT_ANN_SETTINGS, '7', 'model-x');
    graph.upsertFile('a', 'fa', clusteredVectors(500, 1), ordinals(500));
    graph.upsertFile(
      'b',
      'fb',
      clusteredVectors(500, 2),
      Int32Array.from({ length: 500 }, (_, i) => i * 2),
    );
    const path = join(dir, 'owner.json');
    graph.save(path);
    const query = clusteredVectors(1, 42);

    const reopened = AnnGraph.open(path)!;
    expect(reopened.version).toBe('7');
    expect(reopened.model).toBe('model-x');
    expect(reopened.size).toBe(1000);
    expect(reopened.fingerprint('b')).toBe('fb');
    expect(reopened.search(query, 10)).toEqual(graph.search(query, 10));

    reopened.removeFile('a');
    reopened.version = '8';
    reopened.save(path);
    expect(AnnGraph.open(path)!.size).toBe(500);
    // The manifest and the graph it names; the older graph file was removed.
    expect(readdirSync(dir).sort()).toHaveLength(2);
  });

  it('gives undefined for a missing or unreadable manifest', () => {
    expect(AnnGraph.open(join(dir, 'none.json'))).toBeUndefined();
  });
});
