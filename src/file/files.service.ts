import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { DataSource, Repository } from 'typeorm';
import { FileAnalysis } from './entities/file-analysis.entity';
import { StoredFile } from './entities/stored-file.entity';
import { FILE_OPTIONS, FileOptions } from './file.environment';
import { sniff } from './processing/mime-sniffer';
import { FILE_STORAGE, FileStorage, StorageNotFoundError } from './storage/file-storage';
import { receiveUpload } from './upload/multipart-upload';

/** File records and their content: upload, listing, download, deletion; ownership checks. */
@Injectable()
export class FilesService {
  private readonly logger = new Logger(FilesService.name);

  constructor(
    @InjectRepository(StoredFile) private readonly files: Repository<StoredFile>,
    @InjectRepository(FileAnalysis) private readonly analyses: Repository<FileAnalysis>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(FILE_OPTIONS) private readonly options: FileOptions,
    private readonly dataSource: DataSource,
  ) {}

  /** Streams a multipart upload into storage and records it as UPLOADED. */
  async upload(request: IncomingMessage, owner: string): Promise<{ file: StoredFile; fields: Record<string, string> }> {
    const id = randomUUID();
    const storageKey = `files/${owner}/${id}`;
    const received = await receiveUpload(request, this.storage, storageKey, this.options.maxUploadBytes).catch(
      async (error) => {
        // The file part may have been stored before a later part of the request failed.
        await this.storage.delete(storageKey);
        throw error;
      },
    );
    const sniffed = sniff(received.head, received.originalName, received.size <= received.head.length);
    const now = new Date();
    const file = Object.assign(new StoredFile(), {
      id,
      owner,
      originalName: received.originalName,
      size: received.size,
      sha256: received.sha256,
      mimeType: sniffed.mime,
      encoding: sniffed.encoding ?? null,
      storageKey,
      status: 'UPLOADED',
      chunkCount: 0,
      embeddingModel: null,
      error: null,
      createdAt: now,
      updatedAt: now,
      indexedAt: null,
    } satisfies StoredFile);
    try {
      await this.files.insert(file);
    } catch (error) {
      await this.storage.delete(storageKey);
      throw error;
    }
    return { file, fields: received.fields };
  }

  /** The file if `owner` may see it (null owner = the service itself); otherwise 404. */
  async findVisible(id: string, owner: string | null): Promise<StoredFile> {
    const file = await this.files.findOneBy({ id });
    if (!file || (owner !== null && file.owner !== owner)) throw new NotFoundException(`File ${id} not found`);
    return file;
  }

  async list(owner: string, limit: number, before?: Date): Promise<StoredFile[]> {
    const query = this.files
      .createQueryBuilder('f')
      .where('f.owner = :owner', { owner })
      .orderBy('f.created_at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .limit(limit);
    if (before) query.andWhere('f.created_at < :before', { before });
    return query.getMany();
  }

  async content(file: StoredFile): Promise<Readable> {
    try {
      return await this.storage.open(file.storageKey);
    } catch (error) {
      if (error instanceof StorageNotFoundError)
        throw new NotFoundException(`The content of file ${file.id} is missing from storage`);
      throw error;
    }
  }

  async analysis(file: StoredFile): Promise<FileAnalysis> {
    const analysis = await this.analyses.findOneBy({ fileId: file.id });
    if (!analysis)
      throw new NotFoundException(`File ${file.id} has not been analysed yet: run tasks.file.analyze_file`);
    return analysis;
  }

  /** Deletes the record, its chunks and analysis (cascade) in one transaction, then the content. */
  async delete(file: StoredFile): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM files WHERE id = $1`, [file.id]);
      await bumpIndexVersion(manager.query.bind(manager), file.owner);
    });
    await this.storage
      .delete(file.storageKey)
      .catch((error) => this.logger.warn(`Could not delete the content of file ${file.id}: ${error.message}`));
  }
}

/** Invalidates every process's cached vector index of `owner` (see ExactVectorIndex). */
export async function bumpIndexVersion(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  owner: string,
): Promise<void> {
  await query(
    `INSERT INTO file_index_versions (owner, version) VALUES ($1, 1)
     ON CONFLICT (owner) DO UPDATE SET version = file_index_versions.version + 1`,
    [owner],
  );
}
