/** One chunk found by a vector search. */
export interface VectorHit {
  fileId: string;
  ordinal: number;
  /** Cosine similarity (vectors are unit length). */
  score: number;
}

export interface VectorQuery {
  owner: string;
  /** Only chunks embedded by this model are comparable with the query vector. */
  model: string;
  vector: Float32Array;
  k: number;
  fileId?: string;
  /** Scan every vector even where an approximate index is configured. */
  exact?: boolean;
}

/**
 * Nearest-neighbour search over an owner's chunks, chosen by `SEARCH_INDEX`:
 * {@link QuantizedVectorIndex} (default) scans a persisted int8 copy and rescores its candidates
 * exactly; {@link ExactVectorIndex} scans every float vector; {@link ApproximateVectorIndex} walks
 * a persisted HNSW graph (usearch).
 */
export interface VectorIndex {
  search(query: VectorQuery): Promise<VectorHit[]>;
}

export const VECTOR_INDEX = Symbol('VectorIndex');

/** Keeps the k best (highest score) of a stream of scores: a small sorted insertion list. */
export class TopK {
  readonly indexes: number[] = [];
  readonly scores: number[] = [];

  constructor(private readonly k: number) {}

  offer(index: number, score: number): void {
    const n = this.scores.length;
    if (n === this.k && score <= this.scores[n - 1]) return;
    let at = n === this.k ? n - 1 : n;
    while (at > 0 && this.scores[at - 1] < score) {
      if (at < this.k) {
        this.scores[at] = this.scores[at - 1];
        this.indexes[at] = this.indexes[at - 1];
      }
      at--;
    }
    this.scores[at] = score;
    this.indexes[at] = index;
  }
}
