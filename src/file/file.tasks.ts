import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import { IsConfinedPath } from './import/confined-path';
import { defineTask } from '../tasks/task-definition';
import { QueueName } from '../tasks/queue-names';

export class FileTaskArgs {
  @IsUUID()
  fileId: string;
}

/** Extracts the text of an uploaded file, chunks and embeds it, and replaces the file's vector index rows. */
export const ProcessFileTask = defineTask({
  name: 'tasks.file.process_file',
  celery: 'process_file(file_id)',
  queue: QueueName.FILE,
  description: 'Extracts text of an uploaded file, chunks and embeds it, and writes its vector index',
  payload: FileTaskArgs,
  retry: { attempts: 3, backoffMs: 2000 },
  timeoutMs: 30 * 60_000,
});

/** Analyses file content: type, encoding, counts, language, keywords and structure. */
export const AnalyzeFileTask = defineTask({
  name: 'tasks.file.analyze_file',
  celery: 'analyze_file(file_id)',
  queue: QueueName.FILE,
  description: 'Analyses file content: type, encoding, counts, language, keywords, structure',
  payload: FileTaskArgs,
  retry: { attempts: 3, backoffMs: 2000 },
  timeoutMs: 10 * 60_000,
});

export class ExportFileArgs {
  @ApiProperty({ type: [String], description: '1 to 10,000 unique ids of your files, in archive order' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ArrayUnique({ message: 'fileIds must not contain the same id twice' })
  @IsUUID('all', { each: true, message: 'each value in fileIds must be a file id (UUID)' })
  fileIds: string[];

  @ApiPropertyOptional({ example: 'reports-2026-q4', description: 'Download name (".zip" is added)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;
}

/** Many files of one owner as one ZIP (with a manifest), streamed from storage into storage. */
export const ExportFileTask = defineTask({
  name: 'tasks.file.export_file',
  celery: 'export_file(file_ids, name=None)',
  queue: QueueName.EXPORT,
  description: 'Writes files of the caller as one ZIP archive with a manifest; download it from /exports/:id/content',
  payload: ExportFileArgs,
  retry: { attempts: 3, backoffMs: 5000 },
  timeoutMs: 2 * 3600_000,
});

export class BulkUploadArgs {
  @ApiProperty({ example: 'incoming/2026-12', description: 'Relative to IMPORT_ROOT; no absolute path, no ".."' })
  @IsString()
  @Length(1, 1000)
  @IsConfinedPath()
  directory: string;

  @ApiPropertyOptional({ example: '**/*.{txt,md,pdf}', description: 'picomatch glob on the path below directory' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  pattern?: string;

  @ApiPropertyOptional({ default: false, description: 'Descend into sub-directories' })
  @IsOptional()
  @IsBoolean()
  recursive?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Submit a tasks.file.process_file child per imported file' })
  @IsOptional()
  @IsBoolean()
  process?: boolean;

  @ApiPropertyOptional({ description: 'The API key id that will own the files; default the caller' })
  @IsOptional()
  @IsUUID('all', { message: 'ownerKeyId must be an API key id (UUID)' })
  ownerKeyId?: string;
}

/** Imports files that sit on the server below IMPORT_ROOT (admin only), with a process_file child each. */
export const BulkUploadTask = defineTask({
  name: 'tasks.file.bulk_upload',
  celery: 'bulk_upload(directory, pattern=None, recursive=None, process=None, owner_key_id=None)',
  queue: QueueName.FILE,
  description: 'Imports a directory below IMPORT_ROOT (admin only): each file stored, hashed and processed by a child',
  payload: BulkUploadArgs,
  retry: { attempts: 3, backoffMs: 5000 },
  timeoutMs: 6 * 3600_000,
});
