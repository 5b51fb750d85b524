import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { readFileFingerprints, readSegments, Segment } from './chunk-vectors';
import { ExactVectorIndex, exactScan } from './exact-vector-index';
import { Candidate, QuantizedMatrix } from './quantized-matrix';
import { OwnerIndexCache } from './owner-index-cache';
import { VectorHit, VectorIndex, VectorQuery } from './vector-index';

/** Files whose float vectors are read per query while (re)building a matrix. */
const READ_BATCH_FILES = 64;

/** One owner's background save: the matrix to write and whether it changed since the write began. */
interface SaveState {
  matrix: QuantizedMatrix;
  again: boolean;
  done?: Promise<void>;
}

export interface QuantizedIndexOptions {
  /** Where each owner's matrix and manifest are saved (one pair per owner, model and dimension). */
  directory: string;
  /** Owners whose matrices stay in memory (least recently searched dropped first). */
  maxOwners: number;
  /** Candidates taken from the int8 scan per result, then rescored with the float vectors. */
  oversample?: number;
}

/** Reads the float vectors of `candidates` (one row each; missing rows are left out). */
export type FloatReader = (candidates: Candidate[]) => Promise<Segment[]>;

/**
 * The exact top k among `candidates`: their float vectors scored by {@link exactScan}, so the
 * scores returned are exact cosine similarities.
 */
export async function rescore(
  candidates: Candidate[],
  vector: Float32Array,
  k: number,
  readFloats: FloatReader,
): Promise<VectorHit[]> {
  return exactScan(await readFloats(candidates), vector, k);
}

/**
 * Cosine search over an int8 copy of every vector: usearch's SIMD scan picks `oversample × k`
 * candidates, whose float vectors are then read from `file_chunks` by primary key and scored
 * exactly. Only the int8 matrix is held (≈ 26 MB per 100k chunks of 256 dims, a quarter of the
 * exact index) and saved per owner, so a restarted process reads one file instead of every row;
 * the floats of ~40 rows per query cost one indexed query (≈ 1–2 ms). Kept in step with
 * `file_index_versions` like {@link ExactVectorIndex}: only files whose fingerprint changed are read.
 * One-file queries and `exact: true` go to the exact index.
 */
export class QuantizedVectorIndex implements VectorIndex {
  private readonly logger = new Logger(QuantizedVectorIndex.name);
  private readonly matrices: OwnerIndexCache<QuantizedMatrix>;
  private readonly saves = new Map<string, SaveState>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: QuantizedIndexOptions,
    private readonly exact = new ExactVectorIndex(dataSource, options.maxOwners),
  ) {
    this.matrices = new OwnerIndexCache<QuantizedMatrix>(dataSource, options.directory, options.maxOwners, {
      open: (path) => QuantizedMatrix.open(path),
      create: (dimension, model) => new QuantizedMatrix(dimension, '0', model),
      refresh: (owner, model, base, path) => this.refresh(owner, model, base, path),
    });
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.exact || query.fileId !== undefined) return this.exact.search(query);
    const matrix = await this.matrices.get(query.owner, query.model, query.vector.length);
    const candidates = matrix.candidates(query.vector, query.k * (this.options.oversample ?? 4));
    return rescore(candidates, query.vector, query.k, (c) => this.readFloats(c));
  }

  private readFloats = async (candidates: Candidate[]): Promise<Segment[]> => {
    if (candidates.length === 0) return [];
    const rows: { file_id: string; ordinal: number; embedding: Buffer }[] = await this.dataSource.query(
      `SELECT c.file_id, c.ordinal, c.embedding
         FROM unnest($1::uuid[], $2::int[]) AS p (file_id, ordinal)
         JOIN file_chunks c ON c.file_id = p.file_id AND c.ordinal = p.ordinal`,
      [candidates.map((c) => c.fileId), candidates.map((c) => c.ordinal)],
    );
    return rows.map((row) => {
      // Copied: pg's Buffers are not 4-byte aligned, so they cannot be viewed as floats.
      const vectors = new Float32Array(row.embedding.length / 4);
      new Uint8Array(vectors.buffer).set(row.embedding.subarray(0, vectors.length * 4));
      return {
        fileId: row.file_id,
        fingerprint: '',
        count: 1,
        dimension: vectors.length,
        vectors,
        ordinals: Int32Array.of(row.ordinal),
      };
    });
  };

  /** Brings `matrix` to the owner's current version in one snapshot, then saves it. */
  private async refresh(owner: string, model: string, matrix: QuantizedMatrix, path: string): Promise<QuantizedMatrix> {
    const started = Date.now();
    const changed = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [row] = await manager.query(`SELECT version::text AS version FROM file_index_versions WHERE owner = $1`, [
        owner,
      ]);
      const files = await readFileFingerprints(manager, owner, model);
      const current = new Map(files.map((f) => [f.id, f.fingerprint]));
      for (const fileId of matrix.fileIds()) if (!current.has(fileId)) matrix.removeFile(fileId);
      const stale = files.filter((f) => matrix.fingerprint(f.id) !== f.fingerprint).map((f) => f.id);
      // A batch of files at a time: only the int8 copy is kept, so the floats of 1M chunks (1 GB)
      // are never in memory together.
      for (let at = 0; at < stale.length; at += READ_BATCH_FILES)
        for (const segment of await readSegments(manager, stale.slice(at, at + READ_BATCH_FILES), current)) {
          if (segment.dimension === matrix.dimension)
            matrix.upsertFile(segment.fileId, segment.fingerprint, segment.vectors, segment.ordinals);
          else matrix.removeFile(segment.fileId);
        }
      matrix.version = row?.version ?? '0';
      return stale.length;
    });
    this.persist(path, matrix);
    this.logger.debug(
      `Refreshed the int8 search matrix of owner ${owner}: ${changed} files read, ${matrix.size} chunks, ${Date.now() - started} ms`,
    );
    return matrix;
  }

  /** Resolves once every save started so far is on disk (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.saves.values()].map((save) => save.done));
  }

  /**
   * Saves in the background, one save per owner at a time: changes made while one is being
   * written are saved once after it, not once per change.
   */
  private persist(path: string, matrix: QuantizedMatrix): void {
    const running = this.saves.get(path);
    if (running) {
      running.matrix = matrix;
      running.again = true;
      return;
    }
    const entry: SaveState = { matrix, again: false };
    this.saves.set(path, entry);
    const run = async (): Promise<void> => {
      do {
        entry.again = false;
        await entry.matrix
          .save(path)
          .catch((error: Error) =>
            this.logger.warn(`Could not save the int8 search matrix to ${this.options.directory}: ${error.message}`),
          );
      } while (entry.again);
    };
    entry.done = run().finally(() => this.saves.delete(path));
  }
}
