import { ChunkOptions } from './processing/chunker';

/** The File domain's settings, resolved once from {@link FileEnvironment} in file.module.ts. */
export interface FileOptions {
  storageDir: string;
  maxUploadBytes: number;
  chunking: ChunkOptions;
  /** Chunks per embedding round (one progress report each). */
  embedBatch: number;
}

export const FILE_OPTIONS = Symbol('FileOptions');
