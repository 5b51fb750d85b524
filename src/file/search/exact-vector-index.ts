import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { readFileFingerprints, readSegments, Segment } from './chunk-vectors';
import { TopK, VectorHit, VectorIndex, VectorQuery } from './vector-index';

interface OwnerIndex {
  version: string;
  model: string;
  segments: Map<string, Segment>;
}

/**
 * Exact cosine search: each owner's vectors are held in memory, one Float32Array per file,
 * and scanned per query (100k × 256 floats ≈ 25 M multiply-adds, tens of milliseconds).
 * The cache entry is valid while the owner's row in `file_index_versions` is unchanged: every
 * chunk write and delete bumps it in its own transaction, so api and worker processes agree.
 * After a change only the files whose fingerprint changed are read again.
 */
export class ExactVectorIndex implements VectorIndex {
  private readonly logger = new Logger(ExactVectorIndex.name);
  private readonly cache = new Map<string, OwnerIndex>();
  private readonly loading = new Map<string, Promise<OwnerIndex>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly maxOwners: number,
  ) {}

  async search(query: VectorQuery): Promise<VectorHit[]> {
    const index = await this.indexFor(query.owner, query.model);
    return exactScan(index.segments.values(), query.vector, query.k, query.fileId);
  }

  private async indexFor(owner: string, model: string): Promise<OwnerIndex> {
    const [row] = await this.dataSource.query(
      `SELECT version::text AS version FROM file_index_versions WHERE owner = $1`,
      [owner],
    );
    const version: string = row?.version ?? '0';
    const cached = this.cache.get(owner);
    if (!cached || cached.version !== version || cached.model !== model) {
      const key = `${owner}:${model}:${version}`;
      let pending = this.loading.get(key);
      if (!pending) {
        pending = this.refresh(owner, model, cached?.model === model ? cached : undefined).finally(() =>
          this.loading.delete(key),
        );
        this.loading.set(key, pending);
      }
      const loaded = await pending;
      this.remember(owner, loaded);
      return loaded;
    }
    this.remember(owner, cached);
    return cached;
  }

  /** Map order is the LRU order: the least recently searched owner is dropped first. */
  private remember(owner: string, index: OwnerIndex): void {
    this.cache.delete(owner);
    this.cache.set(owner, index);
    while (this.cache.size > this.maxOwners) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Reads the version, the file list and the changed files' vectors in one snapshot, so they agree. */
  private refresh(owner: string, model: string, previous: OwnerIndex | undefined): Promise<OwnerIndex> {
    const started = Date.now();
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [row] = await manager.query(`SELECT version::text AS version FROM file_index_versions WHERE owner = $1`, [
        owner,
      ]);
      const files = await readFileFingerprints(manager, owner, model);
      const segments = new Map<string, Segment>();
      const stale: string[] = [];
      for (const file of files) {
        const kept = previous?.segments.get(file.id);
        if (kept && kept.fingerprint === file.fingerprint) segments.set(file.id, kept);
        else stale.push(file.id);
      }
      for (const segment of await readSegments(manager, stale, new Map(files.map((f) => [f.id, f.fingerprint]))))
        segments.set(segment.fileId, segment);
      this.logger.debug(
        `Refreshed the vector index of owner ${owner}: ${stale.length} of ${files.length} files read in ${Date.now() - started} ms`,
      );
      return { version: row?.version ?? '0', model, segments };
    });
  }
}

/**
 * Cosine top-k over every vector of `segments` (unit vectors: the dot product), optionally of one
 * file only. Also the reference the approximate index's recall is measured against.
 */
export function exactScan(
  segments: Iterable<Pick<Segment, 'fileId' | 'count' | 'dimension' | 'vectors' | 'ordinals'>>,
  q: Float32Array,
  k: number,
  fileId?: string,
): VectorHit[] {
  const top = new TopK(k);
  const found: Pick<Segment, 'fileId' | 'ordinals'>[] = [];
  for (const segment of segments) {
    if ((fileId !== undefined && segment.fileId !== fileId) || segment.dimension !== q.length) continue;
    const { vectors, dimension } = segment;
    const at = found.push(segment) - 1;
    const unrolled = dimension - (dimension % 4);
    for (let row = 0, base = 0; row < segment.count; row++, base += dimension) {
      // Four accumulators: about twice as fast as one in V8 (independent multiply-adds).
      let a = 0;
      let b = 0;
      let c = 0;
      let e = 0;
      for (let d = 0; d < unrolled; d += 4) {
        a += vectors[base + d] * q[d];
        b += vectors[base + d + 1] * q[d + 1];
        c += vectors[base + d + 2] * q[d + 2];
        e += vectors[base + d + 3] * q[d + 3];
      }
      for (let d = unrolled; d < dimension; d++) a += vectors[base + d] * q[d];
      // One number per hit: segment in the high part, row in the low 20 bits (files hold < 1M chunks).
      top.offer(at * 1_048_576 + row, a + b + c + e);
    }
  }
  return top.indexes.map((packed, i) => {
    const segment = found[Math.floor(packed / 1_048_576)];
    return { fileId: segment.fileId, ordinal: segment.ordinals[packed % 1_048_576], score: top.scores[i] };
  });
}
