import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import picomatch from 'picomatch';
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { DataSource } from 'typeorm';
import { TaskContext } from '../../tasks/task-definition';
import { TaskQueryService } from '../../tasks/records/task-query.service';
import { taskRequest, TaskSubmissionService } from '../../tasks/submit/task-submission.service';
import { AppConfig } from '../../config/app-config';
import { FileEnvironment } from '../file.environment';
import { BulkUploadArgs, ProcessFileTask } from '../file.tasks';
import { FILE_STORAGE, FileStorage } from '../storage/file-storage';
import { confinedPathProblem } from './confined-path';
import { copyIntoStorage, hashOpenFile, ImportedFile, insertImportedFiles } from './import-copy';
import { ImportCandidate, isInside, SkippedEntry, walkImportDirectory } from './import-walker';

const BATCH = 100;
const LIST_CAP = 100;
const FILE_IDS_CAP = 1000;

export interface BulkImportResult {
  imported: number;
  skipped: SkippedEntry[];
  skippedTotal: number;
  failed: { path: string; error: string }[];
  failedTotal: number;
  /** The ids of the imported files (at most 1,000; `imported` is the total). */
  fileIds: string[];
}

/**
 * `tasks.file.bulk_upload`: imports the regular files below a directory of IMPORT_ROOT, in
 * batches of 100 (one short transaction and one child submission per batch, so 10,000 files
 * keep memory flat). Each file is opened with O_NOFOLLOW, hashed, and copied into storage
 * only when its owner + path + sha256 is new; a retry of the same task finds its own earlier
 * batches, reports them as imported and re-submits any child that was lost.
 */
@Injectable()
export class BulkImportService {
  private readonly env: FileEnvironment;

  constructor(
    config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly submission: TaskSubmissionService,
    private readonly tasks: TaskQueryService,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
  ) {
    this.env = config.section(FileEnvironment);
  }

  async import(args: BulkUploadArgs, ctx: TaskContext<BulkUploadArgs>): Promise<BulkImportResult> {
    if (!this.env.IMPORT_ROOT) throw new UnrecoverableError('Imports are disabled: IMPORT_ROOT is not set');
    await this.assertAdmin(ctx.owner);
    const owner = args.ownerKeyId ?? ctx.owner;
    if (!owner) throw new UnrecoverableError('ownerKeyId is required when the service itself starts an import');
    if (args.ownerKeyId) await this.assertKeyExists(args.ownerKeyId);
    const root = await realpath(this.env.IMPORT_ROOT);
    const start = await this.startDirectory(root, args.directory);

    const matches = args.pattern ? picomatch(args.pattern, { dot: true, basename: !args.pattern.includes('/') }) : null;
    const result: BulkImportResult = {
      imported: 0,
      skipped: [],
      skippedTotal: 0,
      failed: [],
      failedTotal: 0,
      fileIds: [],
    };
    const report = () => ctx.progress({ filesDone: result.imported + result.skippedTotal + result.failedTotal });
    let batch: ImportCandidate[] = [];
    for await (const item of walkImportDirectory(root, start, args.recursive ?? false)) {
      ctx.signal.throwIfAborted();
      if (matches && !matches(item.path)) continue;
      const path = posix.join(args.directory.replace(/\\/g, '/'), item.path);
      if (item.kind === 'skip') addCapped(result, 'skipped', { path, reason: item.reason });
      else batch.push({ path, real: item.real });
      if (batch.length === BATCH) {
        await this.importBatch(batch, owner, args, ctx, result);
        batch = [];
        report();
      }
    }
    if (batch.length > 0) await this.importBatch(batch, owner, args, ctx, result);
    report();
    return result;
  }

  private async importBatch(
    batch: ImportCandidate[],
    owner: string,
    args: BulkUploadArgs,
    ctx: TaskContext<BulkUploadArgs>,
    result: BulkImportResult,
  ): Promise<void> {
    const opened = await Promise.all(batch.map((c) => this.openAndHash(c)));
    try {
      const ready = opened.filter((o) => {
        if ('skip' in o) addCapped(result, 'skipped', { path: o.path, reason: o.skip });
        if ('error' in o) addCapped(result, 'failed', { path: o.path, error: o.error });
        return 'sha256' in o;
      }) as Hashed[];
      const known = await this.knownImports(owner, ready);
      const fresh: ImportedFile[] = [];
      const mine: string[] = [];
      for (const file of ready) {
        const earlier = known.get(`${file.path}\0${file.sha256}`);
        if (earlier && earlier.taskId !== ctx.taskId) {
          addCapped(result, 'skipped', { path: file.path, reason: 'already imported' });
          continue;
        }
        if (earlier) {
          mine.push(earlier.fileId);
          continue;
        }
        try {
          fresh.push(await copyIntoStorage(this.storage, file, owner, ctx.taskId, this.env.MAX_UPLOAD_BYTES));
        } catch (error) {
          addCapped(result, 'failed', { path: file.path, error: error.message });
        }
      }
      await insertImportedFiles(this.dataSource, fresh, owner, ctx.taskId);
      const ids = [...mine, ...fresh.map((f) => f.id)];
      for (const id of ids) if (result.fileIds.length < FILE_IDS_CAP) result.fileIds.push(id);
      result.imported += ids.length;
      if (args.process ?? true) await this.submitChildren(ids, owner, ctx.taskId, mine.length > 0);
    } finally {
      await Promise.all(opened.map((o) => ('handle' in o ? o.handle.close() : undefined)));
    }
  }

  /** Opens without following a symlink swapped in since the walk, and without blocking on a FIFO; refuses what is not a regular file. */
  private async openAndHash(candidate: ImportCandidate): Promise<Opened> {
    const { path, real } = candidate;
    let handle;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      return error.code === 'ELOOP'
        ? { path, skip: 'became a symlink during the import (not followed)' }
        : { path, error: error.message };
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return { path, skip: 'not a regular file' };
      }
      if (info.size > this.env.MAX_UPLOAD_BYTES) {
        await handle.close();
        return { path, skip: `larger than the upload limit of ${this.env.MAX_UPLOAD_BYTES} bytes` };
      }
      return { path, handle, size: info.size, sha256: await hashOpenFile(handle) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      return { path, error: error.message };
    }
  }

  private async knownImports(owner: string, files: Hashed[]): Promise<Map<string, { fileId: string; taskId: string }>> {
    if (files.length === 0) return new Map();
    const rows: { source_path: string; sha256: string; file_id: string; task_id: string }[] =
      await this.dataSource.query(
        `SELECT i.source_path, i.sha256, i.file_id, i.task_id FROM file_imports i
       JOIN unnest($2::text[], $3::text[]) AS b(path, sha256) ON i.source_path = b.path AND i.sha256 = b.sha256
       WHERE i.owner = $1`,
        [owner, files.map((f) => f.path), files.map((f) => f.sha256)],
      );
    return new Map(rows.map((r) => [`${r.source_path}\0${r.sha256}`, { fileId: r.file_id, taskId: r.task_id }]));
  }

  /** One submission per batch; on a retry, only the children an earlier attempt did not submit. */
  private async submitChildren(ids: string[], owner: string, parentId: string, retried: boolean): Promise<void> {
    let missing = ids;
    if (retried) {
      const submitted = await this.tasks.childArgValues(parentId, 'fileId', ids);
      missing = ids.filter((id) => !submitted.has(id));
    }
    if (missing.length === 0) return;
    await this.submission.submitMany(
      missing.map((fileId) => taskRequest(ProcessFileTask, { fileId }, { owner, parentId })),
    );
  }

  private async startDirectory(root: string, directory: string): Promise<string> {
    const problem = confinedPathProblem(directory);
    if (problem) throw new UnrecoverableError(`directory ${problem}`);
    const start = await realpath(join(root, directory)).catch(() => null);
    if (start === null) throw new UnrecoverableError(`directory ${directory} does not exist below IMPORT_ROOT`);
    if (!isInside(root, start)) throw new UnrecoverableError(`directory ${directory} leads outside IMPORT_ROOT`);
    if (!(await stat(start)).isDirectory()) throw new UnrecoverableError(`directory ${directory} is not a directory`);
    return start;
  }

  /** The route is admin-only; this check also covers `POST /tasks`, which any client may call. */
  private async assertAdmin(keyId: string | null): Promise<void> {
    if (keyId === null) return;
    const rows: { role: string }[] = await this.dataSource.query(
      `SELECT role FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [keyId],
    );
    if (rows[0]?.role !== 'admin') throw new UnrecoverableError('Importing server files needs an admin API key');
  }

  private async assertKeyExists(keyId: string): Promise<void> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM api_keys WHERE id = $1`, [keyId]);
    if (rows.length === 0) throw new UnrecoverableError(`ownerKeyId ${keyId} is not an API key`);
  }
}

type Hashed = { path: string; handle: Awaited<ReturnType<typeof open>>; size: number; sha256: string };
type Opened = Hashed | { path: string; skip: string } | { path: string; error: string };

function addCapped(result: BulkImportResult, list: 'skipped' | 'failed', item: any): void {
  if (list === 'skipped') {
    result.skippedTotal++;
    if (result.skipped.length < LIST_CAP) result.skipped.push(item);
  } else {
    result.failedTotal++;
    if (result.failed.length < LIST_CAP) result.failed.push(item);
  }
}
