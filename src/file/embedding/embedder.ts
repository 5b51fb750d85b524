/** Turns texts into vectors. Vectors are L2-normalised, so cosine similarity is a dot product. */
export interface Embedder {
  /** Names the model; chunks embedded by another model are not compared with this one's queries. */
  readonly model: string;
  /** True when `embed` is CPU work that should run on the worker threads (see file-cpu.pool.ts). */
  readonly local: boolean;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export const EMBEDDER = Symbol('Embedder');

/** Scales `vector` to unit length in place (a zero vector stays zero). */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] *= scale;
  return vector;
}
