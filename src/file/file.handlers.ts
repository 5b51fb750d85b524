import { Injectable } from '@nestjs/common';
import { FileAnalysisService } from './analysis/file-analysis.service';
import { ZipExportService } from './export/zip-export.service';
import {
  AnalyzeFileTask,
  BulkUploadArgs,
  BulkUploadTask,
  ExportFileArgs,
  ExportFileTask,
  FileTaskArgs,
  ProcessFileTask,
} from './file.tasks';
import { BulkImportService } from './import/bulk-import.service';
import { FileProcessingService } from './processing/file-processing.service';
import { TaskContext, TaskHandler } from '../tasks/task-definition';

/** The File domain's task handlers; the work is in the services. */
@Injectable()
export class FileHandlers {
  constructor(
    private readonly processing: FileProcessingService,
    private readonly analysis: FileAnalysisService,
    private readonly zipExport: ZipExportService,
    private readonly bulkImport: BulkImportService,
  ) {}

  @TaskHandler(ProcessFileTask)
  process(args: FileTaskArgs, ctx: TaskContext<FileTaskArgs>) {
    return this.processing.process(args, ctx);
  }

  @TaskHandler(AnalyzeFileTask)
  analyze(args: FileTaskArgs, ctx: TaskContext<FileTaskArgs>) {
    return this.analysis.analyze(args, ctx);
  }

  @TaskHandler(ExportFileTask)
  exportFiles(args: ExportFileArgs, ctx: TaskContext<ExportFileArgs>) {
    return this.zipExport.export(args, ctx);
  }

  @TaskHandler(BulkUploadTask)
  importFiles(args: BulkUploadArgs, ctx: TaskContext<BulkUploadArgs>) {
    return this.bulkImport.import(args, ctx);
  }
}
