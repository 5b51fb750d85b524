import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Index, ScalarKind } from 'usearch';
import { usearch } from './usearch';
import { VectorHit } from './vector-index';

/** HNSW parameters (usearch). More connectivity/expansion: better recall, slower build and query. */
export interface AnnSettings {
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
  /** How vectors are stored in the graph: f32 exact, f16 half the memory, i8 a quarter. */
  quantization: 'f32' | 'f16' | 'i8';
}

export const DEFAULT_ANN_SETTINGS: AnnSettings = {
  connectivity: 16,
  expansionAdd: 64,
  // Short queries lie far from every chunk, where a graph walk gets lost early: recall@10 on
  // hashing embeddings was 0.68 at 128, 0.88 at 512 (bench/search.bench.ts), at ~3 ms a query.
  expansionSearch: 512,
  // i8 builds about 3.7× faster than f32 here (10k × 256 dims) and takes a quarter of the memory.
  quantization: 'i8',
};

interface FileEntry {
  slot: number;
  fingerprint: string;
  /** Row → chunk ordinal; a number n means 0 … n−1 (the usual case, kept small on disk). */
  ordinals: number[] | number;
}

interface Manifest {
  format: 1;
  /** The owner's `file_index_versions.version` this graph reflects. */
  version: string;
  model: string;
  dimension: number;
  settings: AnnSettings;
  graphFile: string;
  nextSlot: number;
  files: [string, FileEntry][];
}

/** Rows of one file are keyed slot × 2^20 + row, as the exact index packs them (files hold < 1M chunks). */
const ROWS_PER_SLOT = 1_048_576;

const QUANTIZATION: Record<AnnSettings['quantization'], keyof typeof ScalarKind> = { f32: 'F32', f16: 'F16', i8: 'I8' };

/**
 * One owner's approximate nearest-neighbour graph (HNSW, usearch) over unit vectors, with the
 * file → key bookkeeping to update it file by file and a manifest to reopen it from disk.
 * Reopening memory-maps the saved graph (`view`), so the first query after a restart reads
 * only the pages it visits; the first update loads it fully (a viewed graph is read-only).
 */
export class AnnGraph {
  private readonly files = new Map<string, FileEntry>();
  private readonly slots = new Map<number, string>();
  private nextSlot = 0;
  private index: Index;
  private viewedFrom?: string;

  constructor(
    readonly dimension: number,
    readonly settings: AnnSettings,
    public version = '0',
    readonly model = '',
  ) {
    this.index = this.newIndex();
  }

  get size(): number {
    return Number(this.index.size());
  }

  fingerprint(fileId: string): string | undefined {
    return this.files.get(fileId)?.fingerprint;
  }

  fileIds(): string[] {
    return [...this.files.keys()];
  }

  /** Adds (or replaces) one file's vectors: `ordinals.length × dimension` floats. */
  upsertFile(fileId: string, fingerprint: string, vectors: Float32Array, ordinals: ArrayLike<number>): void {
    this.writable();
    this.removeFile(fileId);
    const count = ordinals.length;
    const slot = this.nextSlot++;
    const contiguous = Array.prototype.every.call(ordinals, (o: number, i: number) => o === i);
    this.files.set(fileId, { slot, fingerprint, ordinals: contiguous ? count : Array.from(ordinals) });
    this.slots.set(slot, fileId);
    if (count === 0) return;
    const keys = new BigUint64Array(count);
    for (let row = 0; row < count; row++) keys[row] = BigInt(slot * ROWS_PER_SLOT + row);
    this.index.add(keys, vectors.subarray(0, count * this.dimension));
  }

  removeFile(fileId: string): void {
    const entry = this.files.get(fileId);
    if (!entry) return;
    this.writable();
    const count = typeof entry.ordinals === 'number' ? entry.ordinals : entry.ordinals.length;
    if (count > 0) {
      const keys = new BigUint64Array(count);
      for (let row = 0; row < count; row++) keys[row] = BigInt(entry.slot * ROWS_PER_SLOT + row);
      this.index.remove(keys);
    }
    this.files.delete(fileId);
    this.slots.delete(entry.slot);
  }

  search(vector: Float32Array, k: number): VectorHit[] {
    if (this.size === 0 || vector.length !== this.dimension) return [];
    const { keys, distances } = this.index.search(vector, k, 1);
    const hits: VectorHit[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = Number(keys[i]);
      const slot = Math.floor(key / ROWS_PER_SLOT);
      const row = key % ROWS_PER_SLOT;
      const fileId = this.slots.get(slot);
      const entry = fileId === undefined ? undefined : this.files.get(fileId);
      if (!entry) continue;
      const ordinal = typeof entry.ordinals === 'number' ? row : entry.ordinals[row];
      // usearch's cosine distance is 1 − similarity.
      hits.push({ fileId: fileId!, ordinal, score: 1 - distances[i] });
    }
    return hits;
  }

  /**
   * Writes the graph under a fresh name, then the manifest (`path`) by rename, so a reader sees
   * the old pair or the new one, never a mix; the previous graph file is removed afterwards.
   */
  save(path: string): void {
    const previous = existsSync(path) ? AnnGraph.readManifest(path)?.graphFile : undefined;
    const graphFile = `${basename(path)}.${randomBytes(4).toString('hex')}.usearch`;
    this.index.save(join(dirname(path), graphFile));
    const manifest: Manifest = {
      format: 1,
      version: this.version,
      model: this.model,
      dimension: this.dimension,
      settings: this.settings,
      graphFile,
      nextSlot: this.nextSlot,
      files: [...this.files.entries()],
    };
    writeFileSync(`${path}.tmp`, JSON.stringify(manifest));
    renameSync(`${path}.tmp`, path);
    if (previous && previous !== graphFile && previous !== this.viewedFrom) {
      try {
        unlinkSync(join(dirname(path), previous));
      } catch {
        // Already gone: another process saved over it first.
      }
    }
  }

  /** Reopens a saved graph (memory-mapped), or undefined when there is none or it is unreadable. */
  static open(path: string): AnnGraph | undefined {
    const manifest = AnnGraph.readManifest(path);
    if (!manifest) return undefined;
    const graphPath = join(dirname(path), manifest.graphFile);
    if (!existsSync(graphPath)) return undefined;
    const graph = new AnnGraph(manifest.dimension, manifest.settings, manifest.version, manifest.model);
    graph.index.view(graphPath);
    graph.viewedFrom = graphPath;
    graph.nextSlot = manifest.nextSlot;
    for (const [fileId, entry] of manifest.files) {
      graph.files.set(fileId, entry);
      graph.slots.set(entry.slot, fileId);
    }
    return graph;
  }

  private static readManifest(path: string): Manifest | undefined {
    try {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
      return manifest.format === 1 ? manifest : undefined;
    } catch {
      return undefined;
    }
  }

  private newIndex(): Index {
    const { Index, MetricKind, ScalarKind } = usearch();
    return new Index({
      dimensions: this.dimension,
      metric: MetricKind.Cos,
      quantization: ScalarKind[QUANTIZATION[this.settings.quantization]],
      connectivity: this.settings.connectivity,
      expansion_add: this.settings.expansionAdd,
      expansion_search: this.settings.expansionSearch,
    } as never);
  }

  /** A memory-mapped graph is read-only: load it into memory before the first change. */
  private writable(): void {
    if (!this.viewedFrom) return;
    const loaded = this.newIndex();
    loaded.load(this.viewedFrom);
    this.index = loaded;
    this.viewedFrom = undefined;
  }
}
