import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { toInt, toTrimmed } from '../config/environment-transforms';
import { ChunkOptions } from './processing/chunker';

/** The File domain's environment variables (read with `config.section(FileEnvironment)`). */
export class FileEnvironment {
  /** Root of the local-disk storage; default `${DATA_DIR}/storage`. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  STORAGE_DIR?: string;

  /** Largest accepted upload in bytes; larger ones get 413 while streaming. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

  /** An OpenAI-compatible embeddings endpoint (the full URL, e.g. https://api.openai.com/v1/embeddings); unset = local hashing embedder. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }, { message: 'EMBEDDINGS_URL must be an http(s) URL' })
  EMBEDDINGS_URL?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  EMBEDDINGS_MODEL = 'text-embedding-3-small';

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  EMBEDDINGS_API_KEY?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2048)
  EMBEDDINGS_BATCH_SIZE = 64;

  /** Attempts per embeddings request (429, 5xx and network errors are retried with backoff). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10)
  EMBEDDINGS_RETRIES = 4;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  EMBEDDINGS_TIMEOUT_MS = 30_000;

  /** Worker threads for extraction and embedding; default: cores − 1, between 1 and 4. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  FILE_CPU_THREADS?: number;

  /** Chunk size and overlap, in tokens. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(8000)
  CHUNK_TOKENS = 500;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  CHUNK_OVERLAP_TOKENS = 50;

  /** Root directory of `tasks.file.bulk_upload` (POST /files/import); unset = imports are disabled. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  IMPORT_ROOT?: string;

  /** Caps how fast an export reads its sources (bytes per second), to spare a shared disk; 0 = unlimited. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  EXPORT_READ_BYTES_PER_SECOND = 0;

  /** How many owners' vector indexes the search keeps in memory. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SEARCH_CACHE_OWNERS = 32;

  /**
   * The vector index semantic search uses: `quantized` (int8 scan + exact rescoring, saved under
   * `${DATA_DIR}/search`), `exact` (float scan of every vector) or `hnsw` (usearch graph; recall
   * 0.75 on hashing embeddings). One-file and `exact` queries always scan exactly.
   */
  @IsOptional()
  @IsIn(['exact', 'quantized', 'hnsw'], { message: 'SEARCH_INDEX must be one of exact, quantized, hnsw' })
  SEARCH_INDEX: 'exact' | 'quantized' | 'hnsw' = 'quantized';
}

/** The File domain's settings as its services use them, resolved once from {@link FileEnvironment} in file.module.ts. */
export interface FileOptions {
  storageDir: string;
  maxUploadBytes: number;
  chunking: ChunkOptions;
  /** Chunks per embedding round (one progress report each). */
  embedBatch: number;
}

export const FILE_OPTIONS = Symbol('FileOptions');
