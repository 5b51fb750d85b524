import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Matches } from 'usearch';
import { usearch } from './usearch';

/** One file's int8 rows (a view into the contiguous matrix once it is built) and their chunk ordinals. */
interface FileRows {
  fingerprint: string;
  rows: Int8Array;
  ordinals: Int32Array;
}

interface Manifest {
  version: string;
  model: string;
  dimension: number;
  matrixFile: string;
  /** In matrix order; `ordinals` only when they are not 0..count-1. */
  files: { id: string; fingerprint: string; count: number; ordinals?: number[] }[];
}

/** A chunk the int8 scan proposed. */
export type Candidate = { fileId: string; ordinal: number };

/**
 * Scales a vector into int8 by its largest component (±127): cosine ignores length, and unit vectors
 * × 127 would use about a third of the int8 range in 256 dimensions.
 */
export function quantize(vector: Float32Array, into = new Int8Array(vector.length)): Int8Array {
  let max = 0;
  for (let d = 0; d < vector.length; d++) max = Math.max(max, Math.abs(vector[d]));
  const scale = max > 0 ? 127 / max : 0;
  for (let d = 0; d < vector.length; d++) into[d] = Math.round(vector[d] * scale);
  return into;
}

/**
 * Every chunk vector of one owner and model as int8, one contiguous matrix scanned by usearch's
 * SIMD `exactSearch` (cosine). Kept file by file (only changed files are re-quantised), saved as
 * a manifest plus a raw matrix file, so a restarted process reads one file instead of every row.
 */
export class QuantizedMatrix {
  private readonly files = new Map<string, FileRows>();
  private matrix?: { data: Int8Array; rowFile: string[]; rowOrdinal: Int32Array };

  constructor(
    readonly dimension: number,
    public version = '0',
    readonly model = '',
  ) {}

  get size(): number {
    let rows = 0;
    for (const file of this.files.values()) rows += file.ordinals.length;
    return rows;
  }

  fingerprint(fileId: string): string | undefined {
    return this.files.get(fileId)?.fingerprint;
  }

  fileIds(): string[] {
    return [...this.files.keys()];
  }

  /** Adds or replaces one file: `ordinals.length × dimension` floats, quantised here. */
  upsertFile(fileId: string, fingerprint: string, vectors: Float32Array, ordinals: Int32Array): void {
    const rows = new Int8Array(ordinals.length * this.dimension);
    for (let row = 0; row < ordinals.length; row++) {
      const at = row * this.dimension;
      quantize(vectors.subarray(at, at + this.dimension), rows.subarray(at, at + this.dimension));
    }
    this.files.delete(fileId);
    this.files.set(fileId, { fingerprint, rows, ordinals });
    this.matrix = undefined;
  }

  removeFile(fileId: string): void {
    if (this.files.delete(fileId)) this.matrix = undefined;
  }

  /** The `n` rows nearest to `vector` by int8 cosine, best first (to be rescored with floats). */
  candidates(vector: Float32Array, n: number): Candidate[] {
    const matrix = this.contiguous();
    const rows = matrix.rowOrdinal.length;
    if (rows === 0 || n <= 0 || vector.length !== this.dimension) return [];
    const { exactSearch, MetricKind } = usearch();
    const { keys } = exactSearch(
      matrix.data,
      quantize(vector),
      this.dimension,
      Math.min(n, rows),
      MetricKind.Cos,
      0,
    ) as Matches;
    return Array.from(keys, (key) => ({
      fileId: matrix.rowFile[Number(key)],
      ordinal: matrix.rowOrdinal[Number(key)],
    }));
  }

  /**
   * Writes the matrix under a fresh name, then the manifest by rename: readers see the old pair or
   * the new one. The state is taken when called; the writes do not block the event loop (256 MB
   * at 1M chunks), and a later change builds a new array instead of changing the one being written.
   */
  async save(path: string): Promise<void> {
    const { data } = this.contiguous();
    const matrixFile = `${randomUUID()}.i8`;
    const manifest: Manifest = {
      version: this.version,
      model: this.model,
      dimension: this.dimension,
      matrixFile,
      files: [...this.files].map(([id, f]) => ({
        id,
        fingerprint: f.fingerprint,
        count: f.ordinals.length,
        ordinals: f.ordinals.every((o, i) => o === i) ? undefined : Array.from(f.ordinals),
      })),
    };
    const previous = QuantizedMatrix.readManifest(path)?.matrixFile;
    await writeFile(join(dirname(path), matrixFile), data);
    // A temp name of its own: another process may be saving the same owner at the same time.
    const temp = `${path}.${matrixFile}.tmp`;
    await writeFile(temp, JSON.stringify(manifest));
    await rename(temp, path);
    if (previous && previous !== matrixFile)
      await unlink(join(dirname(path), previous)).catch(() => {
        // Already gone: another process saved over it first.
      });
  }

  /** Reads a saved matrix, or undefined when there is none or it does not match its manifest. */
  static open(path: string): QuantizedMatrix | undefined {
    const manifest = QuantizedMatrix.readManifest(path);
    if (!manifest) return undefined;
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dirname(path), manifest.matrixFile));
    } catch {
      return undefined;
    }
    const rows = manifest.files.reduce((sum, f) => sum + f.count, 0);
    if (bytes.length !== rows * manifest.dimension) return undefined;
    const data = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    const matrix = new QuantizedMatrix(manifest.dimension, manifest.version, manifest.model);
    let row = 0;
    for (const f of manifest.files) {
      const ordinals = f.ordinals ? Int32Array.from(f.ordinals) : Int32Array.from({ length: f.count }, (_, i) => i);
      // Views into the one buffer: the loaded matrix is already contiguous.
      matrix.files.set(f.id, {
        fingerprint: f.fingerprint,
        rows: data.subarray(row * manifest.dimension, (row + f.count) * manifest.dimension),
        ordinals,
      });
      row += f.count;
    }
    matrix.matrix = QuantizedMatrix.index(data, matrix.files);
    return matrix;
  }

  private static readManifest(path: string): Manifest | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
  }

  /** Concatenates the files' rows once after a change (≈ 25 MB per 100k chunks of 256 dims). */
  private contiguous(): NonNullable<QuantizedMatrix['matrix']> {
    if (this.matrix) return this.matrix;
    const data = new Int8Array(this.size * this.dimension);
    let at = 0;
    for (const file of this.files.values()) {
      data.set(file.rows, at);
      file.rows = data.subarray(at, at + file.rows.length);
      at += file.rows.length;
    }
    this.matrix = QuantizedMatrix.index(data, this.files);
    return this.matrix;
  }

  private static index(data: Int8Array, files: Map<string, FileRows>) {
    const rows = data.length === 0 ? 0 : [...files.values()].reduce((sum, f) => sum + f.ordinals.length, 0);
    const rowFile: string[] = new Array<string>(rows);
    const rowOrdinal = new Int32Array(rows);
    let row = 0;
    for (const [fileId, file] of files)
      for (let i = 0; i < file.ordinals.length; i++, row++) {
        rowFile[row] = fileId;
        rowOrdinal[row] = file.ordinals[i];
      }
    return { data, rowFile, rowOrdinal };
  }
}
