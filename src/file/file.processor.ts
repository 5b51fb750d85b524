import { Injectable } from '@nestjs/common';
import { FileAnalysisService } from './analysis/file-analysis.service';
import { AnalyzeFileTask, FileTaskArgs, ProcessFileTask } from './file.tasks';
import { FileProcessingService } from './processing/file-processing.service';
import { TaskContext, TaskHandler } from '../tasks/task-definition';

/** The File domain's task handlers; the work is in the services. */
@Injectable()
export class FileProcessor {
  constructor(
    private readonly processing: FileProcessingService,
    private readonly analysis: FileAnalysisService,
  ) {}

  @TaskHandler(ProcessFileTask)
  process(args: FileTaskArgs, ctx: TaskContext<FileTaskArgs>) {
    return this.processing.process(args, ctx);
  }

  @TaskHandler(AnalyzeFileTask)
  analyze(args: FileTaskArgs, ctx: TaskContext<FileTaskArgs>) {
    return this.analysis.analyze(args, ctx);
  }
}
