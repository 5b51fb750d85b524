/**
 * The File domain's CPU work, run on piscina worker threads so the main thread's event loop
 * (HTTP, BullMQ lock renewal) never waits for a parse or an embedding. Errors are returned as
 * values: a thrown custom error loses its class when it crosses the thread boundary.
 */
import { analyseContent, ContentAnalysis } from '../analysis/content-analysis';
import { hashingEmbedding } from '../embedding/hashing-embedder';
import { Chunk, chunkText, ChunkOptions } from './chunker';
import { ExtractionError, extractText } from './text-extraction';

export type CpuTask =
  | { op: 'extract'; bytes: Uint8Array; name: string; chunking: ChunkOptions }
  | { op: 'embed'; texts: string[] }
  | { op: 'analyze'; bytes: Uint8Array; name: string };

export interface ExtractOutput {
  mime: string;
  encoding?: string;
  pages?: number;
  characters: number;
  chunks: Chunk[];
}

export interface EmbedOutput {
  dimension: number;
  /** `texts.length × dimension` floats, row after row. */
  vectors: Float32Array;
}

export type CpuResult<T> = { ok: true; value: T } | { ok: false; unsupported: boolean; message: string };

export default async function run(task: CpuTask): Promise<CpuResult<ExtractOutput | EmbedOutput | ContentAnalysis>> {
  try {
    return { ok: true, value: await perform(task) };
  } catch (error) {
    return { ok: false, unsupported: error instanceof ExtractionError, message: error?.message ?? String(error) };
  }
}

async function perform(task: CpuTask): Promise<ExtractOutput | EmbedOutput | ContentAnalysis> {
  switch (task.op) {
    case 'extract': {
      const extracted = await extractText(toBuffer(task.bytes), task.name);
      return {
        mime: extracted.mime,
        encoding: extracted.encoding,
        pages: extracted.pages,
        characters: extracted.text.length,
        chunks: chunkText(extracted.text, task.chunking),
      };
    }
    case 'embed': {
      const rows = task.texts.map((text) => hashingEmbedding(text));
      const dimension = rows[0]?.length ?? 0;
      const vectors = new Float32Array(rows.length * dimension);
      rows.forEach((row, i) => vectors.set(row, i * dimension));
      return { dimension, vectors };
    }
    case 'analyze': {
      const bytes = toBuffer(task.bytes);
      return analyseContent(await extractText(bytes, task.name), bytes.length);
    }
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
