import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { FileAnalysisService } from './analysis/file-analysis.service';
import { EMBEDDER, Embedder } from './embedding/embedder';
import { HashingEmbedder } from './embedding/hashing-embedder';
import { OpenAiEmbedder } from './embedding/openai-embedder';
import { FileAnalysis } from './entities/file-analysis.entity';
import { FileAttachments } from './file-attachments.service';
import { FileExport, FileImport } from './entities/file-export.entity';
import { ExportsController } from './export/exports.controller';
import { StorageGarbageSweeper } from './export/storage-garbage.sweeper';
import { ZipExportService } from './export/zip-export.service';
import { BulkImportService } from './import/bulk-import.service';
import { ImportsController } from './import/imports.controller';
import { StoredFile } from './entities/stored-file.entity';
import { FILE_OPTIONS, FileEnvironment, FileOptions } from './file.environment';
import { FileHandlers } from './file.handlers';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';
import { FileCpuPool } from './processing/file-cpu.pool';
import { FileProcessingService } from './processing/file-processing.service';
import { ApproximateVectorIndex } from './search/approximate-vector-index';
import { ExactVectorIndex } from './search/exact-vector-index';
import { FileSearchService } from './search/file-search.service';
import { QuantizedVectorIndex } from './search/quantized-vector-index';
import { VECTOR_INDEX, VectorIndex } from './search/vector-index';
import { FILE_STORAGE } from './storage/file-storage';
import { LocalDiskStorage } from './storage/local-disk.storage';

/**
 * Files: upload and storage, `tasks.file.process_file` (text → chunks → vector index),
 * `tasks.file.analyze_file`, semantic search, `tasks.file.export_file` (ZIP exports with
 * their download routes and expiry sweep) and `tasks.file.bulk_upload` (server imports). Storage, embedder and vector index are
 * interfaces bound here, so an object store, a remote model or pgvector can replace them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([StoredFile, FileAnalysis, FileExport, FileImport])],
  controllers: [FilesController, ExportsController, ImportsController],
  providers: [
    {
      provide: FILE_OPTIONS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): FileOptions => {
        const env = config.section(FileEnvironment);
        return {
          storageDir: env.STORAGE_DIR ?? join(config.env.DATA_DIR, 'storage'),
          maxUploadBytes: env.MAX_UPLOAD_BYTES,
          chunking: {
            maxTokens: env.CHUNK_TOKENS,
            overlapTokens: Math.min(env.CHUNK_OVERLAP_TOKENS, Math.floor(env.CHUNK_TOKENS / 2)),
          },
          embedBatch: 500,
        };
      },
    },
    {
      provide: FILE_STORAGE,
      inject: [FILE_OPTIONS],
      useFactory: (options: FileOptions) => new LocalDiskStorage(options.storageDir),
    },
    {
      provide: EMBEDDER,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Embedder => {
        const env = config.section(FileEnvironment);
        return env.EMBEDDINGS_URL
          ? new OpenAiEmbedder({
              url: env.EMBEDDINGS_URL,
              model: env.EMBEDDINGS_MODEL,
              apiKey: env.EMBEDDINGS_API_KEY,
              batchSize: env.EMBEDDINGS_BATCH_SIZE,
              attempts: env.EMBEDDINGS_RETRIES,
              timeoutMs: env.EMBEDDINGS_TIMEOUT_MS,
            })
          : new HashingEmbedder();
      },
    },
    {
      provide: VECTOR_INDEX,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig): VectorIndex => {
        const env = config.section(FileEnvironment);
        const directory = (kind: string) => join(config.env.DATA_DIR, 'search', kind);
        if (env.SEARCH_INDEX === 'quantized')
          return new QuantizedVectorIndex(dataSource, {
            directory: directory('quantized'),
            maxOwners: env.SEARCH_CACHE_OWNERS,
          });
        if (env.SEARCH_INDEX === 'hnsw')
          return new ApproximateVectorIndex(dataSource, {
            directory: directory('hnsw'),
            maxOwners: env.SEARCH_CACHE_OWNERS,
            exactBelow: 5_000,
          });
        return new ExactVectorIndex(dataSource, env.SEARCH_CACHE_OWNERS);
      },
    },
    {
      provide: FileCpuPool,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new FileCpuPool(config.section(FileEnvironment).FILE_CPU_THREADS),
    },
    FilesService,
    FileProcessingService,
    FileAnalysisService,
    FileSearchService,
    FileHandlers,
    ZipExportService,
    StorageGarbageSweeper,
    BulkImportService,
    FileAttachments,
  ],
  exports: [FileAttachments],
})
export class FileModule {}
