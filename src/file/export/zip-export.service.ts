import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type * as Archiver from 'archiver';
import { UnrecoverableError } from 'bullmq';
import { pipeline, Readable } from 'node:stream';
import { In, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { TaskContext } from '../../tasks/task-definition';
import { FileExport } from '../entities/file-export.entity';
import { StoredFile } from '../entities/stored-file.entity';
import { FileEnvironment } from '../file.environment';
import { ExportFileArgs } from '../file.tasks';
import { FILE_STORAGE, FileStorage, StorageNotFoundError } from '../storage/file-storage';
import { HashingCounter, Throttle } from './byte-streams';
import { EntryNames, isStoredType } from './entry-names';

export interface ExportResult {
  exportId: string;
  entries: number;
  size: number;
  sha256: string;
  expiresAt: Date;
}

interface ManifestEntry {
  name: string;
  fileId: string;
  size: number;
  sha256: string;
}

// Past this much content an archive's offsets may not fit 32 bits: write ZIP64 records from the
// start (compress-commons switches on its own too, but only for the central directory).
const ZIP64_FROM_BYTES = 0xffffffff - 64 * 1024 * 1024;
const NOT_FOUND_IDS_SHOWN = 10;
const PROGRESS_EVERY_BYTES = 1024 * 1024;

/**
 * `tasks.file.export_file`: the owner's files as one ZIP, streamed from storage into storage
 * (one source open at a time, archiver's buffers in between: memory stays flat). The archive
 * is written with `storage.put`, which publishes it only when complete, under a key derived
 * from the task id, and the `file_exports` record is written only after that: a half archive
 * is never visible. A retry (after a crash) first removes what an earlier attempt left.
 */
@Injectable()
export class ZipExportService {
  private readonly env: FileEnvironment;

  constructor(
    @InjectRepository(StoredFile) private readonly files: Repository<StoredFile>,
    @InjectRepository(FileExport) private readonly exports: Repository<FileExport>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly config: AppConfig,
  ) {
    this.env = config.section(FileEnvironment);
  }

  async export(args: ExportFileArgs, ctx: TaskContext<ExportFileArgs>): Promise<ExportResult> {
    const done = await this.exports.findOneBy({ id: ctx.taskId });
    if (done) return toExportResult(done);
    const files = await this.ownedFiles(args.fileIds, ctx.owner);
    const owner = ctx.owner ?? files[0].owner;
    const key = `exports/${owner}/${ctx.taskId}.zip`;
    await this.storage.removeIncomplete(key);
    await this.storage.delete(key);

    const written = await this.writeArchive(key, files, ctx);
    const now = new Date();
    const record = Object.assign(new FileExport(), {
      id: ctx.taskId,
      owner,
      name: archiveName(args.name, now),
      storageKey: key,
      entries: files.length,
      size: written.size,
      sha256: written.sha256,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.env.RESULT_EXPIRES_SECONDS * 1000),
    } satisfies FileExport);
    await this.exports.createQueryBuilder().insert().values(record).orIgnore().execute();
    return toExportResult(record);
  }

  /** The files in the order asked for; any id that is missing or not the caller's fails the task, named but not explained. */
  private async ownedFiles(ids: string[], owner: string | null): Promise<StoredFile[]> {
    const found = await this.files.findBy({ id: In(ids) });
    const byId = new Map(found.filter((f) => owner === null || f.owner === owner).map((f) => [f.id, f]));
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      const shown = missing.slice(0, NOT_FOUND_IDS_SHOWN).join(', ');
      const more = missing.length > NOT_FOUND_IDS_SHOWN ? ` and ${missing.length - NOT_FOUND_IDS_SHOWN} more` : '';
      throw new UnrecoverableError(`File${missing.length > 1 ? 's' : ''} not found: ${shown}${more}`);
    }
    return ids.map((id) => byId.get(id)!);
  }

  private async writeArchive(
    key: string,
    files: StoredFile[],
    ctx: TaskContext<ExportFileArgs>,
  ): Promise<{ size: number; sha256: string }> {
    const bytesTotal = files.reduce((sum, f) => sum + f.size, 0);
    const progress = { filesDone: 0, filesTotal: files.length, bytesDone: 0, bytesTotal };
    let reported = 0;
    // archiver and its stream libraries load with the first export, not in every file worker.
    const { ZipArchive } = require('archiver') as typeof Archiver;
    const archive = new ZipArchive({ zlib: { level: 6 }, forceZip64: bytesTotal >= ZIP64_FROM_BYTES });
    const output = new HashingCounter();
    let current: Readable | null = null;
    // pipeline destroys both streams on an error, so storage.put sees it and removes its partial.
    pipeline(archive, output, () => undefined);
    const stored = this.storage.put(key, output);
    const failed = new Promise<never>((_, reject) => {
      stored.catch(reject);
      archive.once('error', reject);
    });
    failed.catch(() => undefined);
    const stop = () => {
      output.destroy(new Error('The export was cancelled or timed out'));
      current?.destroy();
      archive.abort();
    };
    ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      const names = new EntryNames();
      const manifest: ManifestEntry[] = [];
      for (const file of files) {
        ctx.signal.throwIfAborted();
        const source = await this.openStillPresent(file);
        const hashed = new HashingCounter((n) => {
          progress.bytesDone += n;
          // One report per MiB read: progress is throttled later too, but not free.
          if (progress.bytesDone - reported >= PROGRESS_EVERY_BYTES) {
            reported = progress.bytesDone;
            ctx.progress({ ...progress });
          }
        });
        const rate = this.env.EXPORT_READ_BYTES_PER_SECOND;
        // A read error destroys `hashed` with it, archiver then fails the archive.
        current =
          rate > 0
            ? pipeline(source, new Throttle(rate), hashed, () => undefined)
            : pipeline(source, hashed, () => undefined);
        const name = names.next(file.originalName);
        const entered = new Promise<void>((resolve) => archive.once('entry', () => resolve()));
        archive.append(current, { name, store: isStoredType(file.mimeType), date: file.createdAt });
        await Promise.race([entered, failed]);
        manifest.push({ name, fileId: file.id, size: hashed.bytes, sha256: hashed.digest() });
        progress.filesDone++;
        ctx.progress({ ...progress });
      }
      archive.append(Buffer.from(JSON.stringify({ exportId: ctx.taskId, entries: manifest }, null, 2)), {
        name: 'manifest.json',
      });
      await Promise.race([archive.finalize(), failed]);
      await Promise.race([stored, failed]);
      return { size: output.bytes, sha256: output.digest() };
    } catch (error) {
      stop();
      await stored.catch(() => undefined);
      throw error;
    } finally {
      ctx.signal.removeEventListener('abort', stop);
    }
  }

  /** A file deleted since the task started (record or content gone) ends the export, named. */
  private async openStillPresent(file: StoredFile): Promise<Readable> {
    const deleted = () =>
      new UnrecoverableError(`File ${file.id} (${file.originalName}) was deleted during the export`);
    if (!(await this.files.existsBy({ id: file.id }))) throw deleted();
    try {
      return await this.storage.open(file.storageKey);
    } catch (error) {
      if (error instanceof StorageNotFoundError) throw deleted();
      throw error;
    }
  }
}

export function toExportResult(record: FileExport): ExportResult {
  return {
    exportId: record.id,
    entries: record.entries,
    size: record.size,
    sha256: record.sha256,
    expiresAt: record.expiresAt,
  };
}

function archiveName(requested: string | undefined, now: Date): string {
  const base = (requested ?? `export-${now.toISOString().slice(0, 10)}`).replace(/[\u0000-\u001f\u007f/\\]/g, '_');
  return base.toLowerCase().endsWith('.zip') ? base : `${base}.zip`;
}
