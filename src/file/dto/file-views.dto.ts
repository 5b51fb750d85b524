import { ApiProperty } from '@nestjs/swagger';
import { TaskViewDto } from '../../tasks/http/dto/task-view.dto';
import { FILE_STATUSES, FileStatus } from '../entities/stored-file.entity';

// Response schemas of the files routes (toFileView in files.controller.ts and the search result),
// for the OpenAPI document and the clients generated from it.

export class FileViewDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: '季度报告.pdf' })
  name: string;

  @ApiProperty()
  size: number;

  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  sha256: string;

  @ApiProperty({ example: 'application/pdf' })
  mimeType: string;

  @ApiProperty({ type: String, nullable: true, example: 'utf-8' })
  encoding: string | null;

  @ApiProperty({ enum: FILE_STATUSES })
  status: FileStatus;

  @ApiProperty()
  chunkCount: number;

  @ApiProperty({ type: String, nullable: true })
  embeddingModel: string | null;

  @ApiProperty({ type: String, nullable: true })
  error: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  indexedAt: Date | null;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  links: Record<string, string>;
}

export class UploadResultDto {
  @ApiProperty({ type: FileViewDto })
  file: FileViewDto;

  @ApiProperty({ type: TaskViewDto, nullable: true, description: 'The process_file task, unless process=false' })
  task: TaskViewDto | null;
}

/** The multipart body of an upload. */
export class UploadBodyDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The file (streamed; its part name must be "file")' })
  file: unknown;

  @ApiProperty({ required: false, enum: ['true', 'false'], description: 'process=false stores without indexing' })
  process?: string;
}

export class SearchHitDto {
  @ApiProperty({ format: 'uuid' })
  fileId: string;

  @ApiProperty()
  fileName: string;

  @ApiProperty({ description: 'The chunk position in its file' })
  ordinal: number;

  @ApiProperty({ description: 'Cosine similarity, above 0' })
  score: number;

  @ApiProperty()
  snippet: string;
}

export class SearchResultDto {
  @ApiProperty()
  query: string;

  @ApiProperty()
  k: number;

  @ApiProperty({ type: [SearchHitDto] })
  hits: SearchHitDto[];
}

export class FilePageDto {
  @ApiProperty({ type: [FileViewDto] })
  items: FileViewDto[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Pass as before for the next page; null on the last',
  })
  nextBefore: Date | null;
}

export class ExportViewDto {
  @ApiProperty({ format: 'uuid', description: 'Also the id of the export task' })
  id: string;

  @ApiProperty({ example: 'reports-2026-q4.zip' })
  name: string;

  @ApiProperty()
  entries: number;

  @ApiProperty()
  size: number;

  @ApiProperty()
  sha256: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  expiresAt: Date;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  links: Record<string, string>;
}
