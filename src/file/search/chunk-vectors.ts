import { EntityManager } from 'typeorm';

/** One file's vectors: `count × dimension` floats, chunk after chunk. */
export interface Segment {
  fileId: string;
  /** Changes whenever the file's chunks are replaced (`indexed_at` is set in that transaction). */
  fingerprint: string;
  count: number;
  dimension: number;
  vectors: Float32Array;
  ordinals: Int32Array;
}

/** The owner's files with chunks from `model`; the fingerprint changes whenever a file's chunks are replaced. */
export function readFileFingerprints(
  manager: EntityManager,
  owner: string,
  model: string,
): Promise<{ id: string; fingerprint: string }[]> {
  return manager.query(
    `SELECT id, concat(indexed_at, '/', chunk_count) AS fingerprint FROM files WHERE owner = $1 AND embedding_model = $2 AND chunk_count > 0`,
    [owner, model],
  );
}

/** The vectors of `fileIds`, one {@link Segment} per file, ordered by ordinal. */
export async function readSegments(
  manager: EntityManager,
  fileIds: string[],
  fingerprints: Map<string, string>,
): Promise<Segment[]> {
  if (fileIds.length === 0) return [];
  const rows: { file_id: string; ordinal: number; embedding: Buffer }[] = await manager.query(
    `SELECT file_id, ordinal, embedding FROM file_chunks WHERE file_id = ANY($1::uuid[]) ORDER BY file_id, ordinal`,
    [fileIds],
  );
  const segments: Segment[] = [];
  for (let start = 0; start < rows.length;) {
    let end = start;
    while (end < rows.length && rows[end].file_id === rows[start].file_id) end++;
    const dimension = rows[start].embedding.length / 4;
    const vectors = new Float32Array((end - start) * dimension);
    const ordinals = new Int32Array(end - start);
    for (let i = start; i < end; i++) {
      const bytes = rows[i].embedding;
      ordinals[i - start] = rows[i].ordinal;
      // Copied byte-wise: pg's Buffers are not 4-byte aligned, so they cannot be viewed as floats.
      if (bytes.length === dimension * 4)
        new Uint8Array(vectors.buffer, (i - start) * dimension * 4, dimension * 4).set(bytes);
    }
    const fileId = rows[start].file_id;
    segments.push({
      fileId,
      fingerprint: fingerprints.get(fileId)!,
      count: end - start,
      dimension,
      vectors,
      ordinals,
    });
    start = end;
  }
  return segments;
}
