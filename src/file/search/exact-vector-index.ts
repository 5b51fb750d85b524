import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TopK, VectorHit, VectorIndex, VectorQuery } from './vector-index';

interface OwnerIndex {
  version: string;
  model: string;
  dimension: number;
  count: number;
  /** `count × dimension` floats, chunk after chunk. */
  vectors: Float32Array;
  fileIds: string[];
  /** Per chunk, an index into `fileIds`. */
  fileOf: Int32Array;
  ordinals: Int32Array;
}

/**
 * Exact cosine search: each owner's vectors are loaded once into one Float32Array and
 * scanned per query (100k × 256 floats ≈ 25 M multiply-adds, tens of milliseconds). The cache
 * entry is valid while the owner's row in `file_index_versions` is unchanged; every chunk
 * write and delete bumps it in its own transaction, so api and worker processes agree.
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
    if (index.count === 0 || index.dimension !== query.vector.length) return [];
    const only = query.fileId === undefined ? -1 : index.fileIds.indexOf(query.fileId);
    if (query.fileId !== undefined && only < 0) return [];
    const top = new TopK(query.k);
    const { vectors, dimension } = index;
    const q = query.vector;
    for (let row = 0, base = 0; row < index.count; row++, base += dimension) {
      if (only >= 0 && index.fileOf[row] !== only) continue;
      let dot = 0;
      for (let d = 0; d < dimension; d++) dot += vectors[base + d] * q[d];
      top.offer(row, dot);
    }
    return top.indexes.map((row, i) => ({ fileId: index.fileIds[index.fileOf[row]], ordinal: index.ordinals[row], score: top.scores[i] }));
  }

  private async indexFor(owner: string, model: string): Promise<OwnerIndex> {
    const [row] = await this.dataSource.query(`SELECT version::text AS version FROM file_index_versions WHERE owner = $1`, [owner]);
    const version: string = row?.version ?? '0';
    const cached = this.cache.get(owner);
    if (cached && cached.version === version && cached.model === model) {
      // Map order is the LRU order.
      this.cache.delete(owner);
      this.cache.set(owner, cached);
      return cached;
    }
    const key = `${owner}:${model}:${version}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(owner, model).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    const loaded = await pending;
    this.cache.delete(owner);
    this.cache.set(owner, loaded);
    while (this.cache.size > this.maxOwners) this.cache.delete(this.cache.keys().next().value as string);
    return loaded;
  }

  /** Reads the version and the vectors in one snapshot, so the pair is consistent. */
  private async load(owner: string, model: string): Promise<OwnerIndex> {
    const started = Date.now();
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [row] = await manager.query(`SELECT version::text AS version FROM file_index_versions WHERE owner = $1`, [owner]);
      const rows: { file_id: string; ordinal: number; embedding: Buffer }[] = await manager.query(
        `SELECT c.file_id, c.ordinal, c.embedding FROM file_chunks c JOIN files f ON f.id = c.file_id
          WHERE c.owner = $1 AND f.embedding_model = $2 ORDER BY c.file_id, c.ordinal`,
        [owner, model],
      );
      const dimension = rows.length > 0 ? rows[0].embedding.length / 4 : 0;
      const vectors = new Float32Array(rows.length * dimension);
      const fileIds: string[] = [];
      const fileOf = new Int32Array(rows.length);
      const ordinals = new Int32Array(rows.length);
      rows.forEach((r, i) => {
        if (fileIds[fileIds.length - 1] !== r.file_id) fileIds.push(r.file_id);
        fileOf[i] = fileIds.length - 1;
        ordinals[i] = r.ordinal;
        const bytes = r.embedding;
        if (bytes.length === dimension * 4) vectors.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), i * dimension);
      });
      this.logger.debug(`Loaded ${rows.length} vectors of owner ${owner} in ${Date.now() - started} ms`);
      return { version: row?.version ?? '0', model, dimension, count: rows.length, vectors, fileIds, fileOf, ordinals };
    });
  }
}
