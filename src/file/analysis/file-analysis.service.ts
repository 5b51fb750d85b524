import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { Repository } from 'typeorm';
import { TaskContext } from '../../tasks/task-definition';
import { FileAnalysis } from '../entities/file-analysis.entity';
import { FileTaskArgs } from '../file.tasks';
import { FilesService } from '../files.service';
import { FileCpuPool } from '../processing/file-cpu.pool';
import { loadForTask } from '../processing/file-processing.service';
import { ExtractionError } from '../processing/text-extraction';
import { FILE_STORAGE, FileStorage, StorageNotFoundError } from '../storage/file-storage';

/** `tasks.file.analyze_file`: the figures of content-analysis.ts, computed on a worker thread and upserted. */
@Injectable()
export class FileAnalysisService {
  constructor(
    private readonly files: FilesService,
    private readonly cpu: FileCpuPool,
    @InjectRepository(FileAnalysis) private readonly analyses: Repository<FileAnalysis>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
  ) {}

  async analyze(args: FileTaskArgs, ctx: TaskContext<FileTaskArgs>) {
    const file = await loadForTask(this.files, args.fileId, ctx.owner);
    ctx.progress({ stage: 'analysing', percent: 0 });
    try {
      const bytes = await this.storage.read(file.storageKey);
      const result = await this.cpu.analyze(bytes, file.originalName, ctx.signal);
      await this.analyses.query(
        `INSERT INTO file_analyses (file_id, task_id, result, analysed_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (file_id) DO UPDATE SET task_id = EXCLUDED.task_id, result = EXCLUDED.result, analysed_at = EXCLUDED.analysed_at`,
        [file.id, ctx.taskId, JSON.stringify(result)],
      );
      return { fileId: file.id, ...result, keywords: result.keywords.slice(0, 5) };
    } catch (error) {
      if (error instanceof ExtractionError || error instanceof StorageNotFoundError)
        throw new UnrecoverableError(error.message);
      throw error;
    }
  }
}
