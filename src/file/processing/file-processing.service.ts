import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { TaskContext } from '../../tasks/task-definition';
import { EMBEDDER, Embedder } from '../embedding/embedder';
import { StoredFile } from '../entities/stored-file.entity';
import { FILE_OPTIONS, FileOptions } from '../file.environment';
import { FileTaskArgs } from '../file.tasks';
import { bumpIndexVersion, FilesService } from '../files.service';
import { FILE_STORAGE, FileStorage, StorageNotFoundError } from '../storage/file-storage';
import { Chunk } from './chunker';
import { FileCpuPool } from './file-cpu.pool';
import { ExtractionError } from './text-extraction';

const INSERT_BATCH = 1000;

/** `tasks.file.process_file`: extract → chunk → embed → replace the file's chunks in one transaction. */
@Injectable()
export class FileProcessingService {
  constructor(
    private readonly files: FilesService,
    private readonly cpu: FileCpuPool,
    private readonly dataSource: DataSource,
    @InjectRepository(StoredFile) private readonly records: Repository<StoredFile>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    @Inject(FILE_OPTIONS) private readonly options: FileOptions,
  ) {}

  async process(args: FileTaskArgs, ctx: TaskContext<FileTaskArgs>) {
    const file = await loadForTask(this.files, args.fileId, ctx.owner);
    await this.records.update(file.id, { status: 'PROCESSING', error: null, updatedAt: new Date() });
    try {
      const clock = stopwatch();
      ctx.progress({ stage: 'extracting', percent: 0 });
      const bytes = await this.storage.read(file.storageKey);
      const extracted = await this.cpu.extract(bytes, file.originalName, this.options.chunking, ctx.signal);
      const extractMs = clock();
      ctx.progress({ stage: 'embedding', percent: 30, chunks: extracted.chunks.length, embedded: 0 });
      const found = { mimeType: extracted.mime, encoding: extracted.encoding ?? null };
      if (this.embedder.local) {
        // Local embedding takes seconds: each batch is written while the threads embed the next.
        await this.replaceChunks(file, extracted.chunks, found, (write) => this.embedAll(extracted.chunks, ctx, write));
      } else {
        // A remote endpoint may take minutes: embed everything first, so the transaction stays short.
        const vectors: Float32Array[] = [];
        await this.embedAll(extracted.chunks, ctx, async (round) => void vectors.push(...round));
        ctx.progress({ stage: 'writing', percent: 90, chunks: extracted.chunks.length });
        await this.replaceChunks(file, extracted.chunks, found, (write) => write(vectors));
      }
      const embedAndWriteMs = clock();
      return {
        fileId: file.id,
        status: 'INDEXED',
        mimeType: extracted.mime,
        pages: extracted.pages ?? null,
        characters: extracted.characters,
        chunks: extracted.chunks.length,
        tokens: extracted.chunks.reduce((sum, c) => sum + c.tokenCount, 0),
        embeddingModel: this.embedder.model,
        timingsMs: { extract: extractMs, embedAndWrite: embedAndWriteMs },
      };
    } catch (error) {
      const permanent =
        error instanceof ExtractionError ||
        error instanceof StorageNotFoundError ||
        error instanceof UnrecoverableError;
      const message =
        error instanceof StorageNotFoundError
          ? `The content of file ${file.id} is missing from storage`
          : error.message;
      if (permanent || ctx.attempt >= ctx.maxAttempts || ctx.signal.aborted) {
        await this.records.update(file.id, { status: 'FAILED', error: message, updatedAt: new Date() });
      }
      throw permanent ? new UnrecoverableError(message) : error;
    }
  }

  /** Embeds the chunks in rounds, in order, handing each round's vectors to `onRound`. */
  private async embedAll(
    chunks: Chunk[],
    ctx: TaskContext<FileTaskArgs>,
    onRound: (vectors: Float32Array[]) => Promise<void>,
  ): Promise<void> {
    const batch = this.embedder.local ? this.options.embedBatch : this.options.embedBatch * 4;
    const batches: string[][] = [];
    for (let i = 0; i < chunks.length; i += batch) batches.push(chunks.slice(i, i + batch).map((c) => c.text));
    // The local embedder is CPU work: it runs on the worker threads, as many batches at once as there are threads.
    const parallel = this.embedder.local ? this.cpu.threads : 1;
    let embedded = 0;
    for (let i = 0; i < batches.length; i += parallel) {
      const round = batches
        .slice(i, i + parallel)
        .map((texts) =>
          this.embedder.local ? this.cpu.embed(texts, ctx.signal) : this.embedder.embed(texts, ctx.signal),
        );
      const vectors = (await Promise.all(round)).flat();
      embedded += vectors.length;
      await onRound(vectors);
      ctx.progress({
        stage: 'embedding',
        percent: 30 + Math.round((65 * embedded) / chunks.length),
        chunks: chunks.length,
        embedded,
      });
    }
  }

  /**
   * Deletes and rewrites the file's chunks in one transaction, under the file's row lock: a
   * retry or a concurrent re-process never leaves two sets. `produce` hands over vectors in
   * chunk order; each handful is inserted while the producer makes the next.
   */
  private async replaceChunks(
    file: StoredFile,
    chunks: Chunk[],
    found: { mimeType: string; encoding: string | null },
    produce: (write: (vectors: Float32Array[]) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const locked = await manager.query(`SELECT id FROM files WHERE id = $1 FOR UPDATE`, [file.id]);
      if (locked.length === 0) throw new UnrecoverableError(`File ${file.id} was deleted while it was being processed`);
      await manager.query(`DELETE FROM file_chunks WHERE file_id = $1`, [file.id]);
      let written = 0;
      let inserting: Promise<void> = Promise.resolve();
      await produce(async (vectors) => {
        await inserting;
        const from = written;
        written += vectors.length;
        inserting = this.insertChunks(manager, file, chunks, from, vectors);
        // Awaited before the next batch or after the last; marked handled so a producer failure meanwhile is not an unhandled rejection.
        inserting.catch(() => undefined);
      });
      await inserting;
      if (written !== chunks.length) throw new Error(`Embedded ${written} of ${chunks.length} chunks`);
      await manager.query(
        `UPDATE files SET status = 'INDEXED', chunk_count = $2, embedding_model = $3, mime_type = $4, encoding = $5, error = NULL, indexed_at = now(), updated_at = now() WHERE id = $1`,
        [file.id, chunks.length, this.embedder.model, found.mimeType, found.encoding],
      );
      await bumpIndexVersion(manager.query.bind(manager), file.owner);
    });
  }

  private async insertChunks(
    manager: EntityManager,
    file: StoredFile,
    chunks: Chunk[],
    from: number,
    vectors: Float32Array[],
  ): Promise<void> {
    for (let i = 0; i < vectors.length; i += INSERT_BATCH) {
      const ordinals = vectors.slice(i, i + INSERT_BATCH).map((_, j) => from + i + j);
      await manager.query(
        `INSERT INTO file_chunks (file_id, owner, ordinal, text, token_count, embedding)
         SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::int[], $6::bytea[])`,
        [
          file.id,
          file.owner,
          ordinals,
          ordinals.map((o) => chunks[o].text),
          ordinals.map((o) => chunks[o].tokenCount),
          ordinals.map((o) => toBytes(vectors[o - from])),
        ],
      );
    }
  }
}

/** Milliseconds since the previous call (or creation). */
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = Math.round(now - last);
    last = now;
    return elapsed;
  };
}

/** Float32 little-endian bytes, as stored in `file_chunks.embedding`. */
function toBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The file of a task's arguments, if the task's owner may use it; else a permanent failure. */
export async function loadForTask(files: FilesService, fileId: string, owner: string | null): Promise<StoredFile> {
  try {
    return await files.findVisible(fileId, owner);
  } catch (error) {
    if (error instanceof NotFoundException) throw new UnrecoverableError(`File ${fileId} not found`);
    throw error;
  }
}
