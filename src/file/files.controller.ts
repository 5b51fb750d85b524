import {
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { toTaskView } from '../tasks/records/task-view';
import { SubmitContext } from '../tasks/http/submit-context';
import { attachmentDisposition } from './download/attachment-disposition';
import { ListFilesQuery, SearchFilesQuery, UploadQuery } from './dto/file-queries.dto';
import { FilePageDto, FileViewDto, SearchResultDto, UploadBodyDto, UploadResultDto } from './dto/file-views.dto';
import { StoredFile } from './entities/stored-file.entity';
import { ProcessFileTask } from './file.tasks';
import { FilesService } from './files.service';
import { FileSearchService } from './search/file-search.service';

/** Upload, list, download, delete and search files. Every route is owner-only: another key's file is a 404. */
@ApiTags('files')
@ApiBearerAuth()
@Controller('files')
export class FilesController {
  constructor(
    private readonly files: FilesService,
    private readonly search: FileSearchService,
    private readonly submission: TaskSubmissionService,
  ) {}

  @Post()
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    summary:
      'Upload one file (multipart part "file", streamed); 201 with the record and its process_file task unless process=false',
  })
  @ApiBody({ type: UploadBodyDto })
  @ApiCreatedResponse({ type: UploadResultDto })
  async upload(
    @Req() request: FastifyRequest,
    @Query() query: UploadQuery,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const { file, fields } = await this.files.upload(request.raw, context.owner);
    const process = query.process ?? fields.process !== 'false';
    let task = null;
    if (process) {
      const { run } = await this.submission.submit(ProcessFileTask, { fileId: file.id }, context.options());
      task = toTaskView(run);
    }
    response.status(HttpStatus.CREATED).header('Location', `/files/${file.id}`);
    return { file: toFileView(file), task };
  }

  @Get()
  @ApiOperation({ summary: "The caller's files, newest first" })
  @ApiOkResponse({ type: FilePageDto })
  async list(@Query() query: ListFilesQuery, @CurrentPrincipal() principal: Principal) {
    const items = await this.files.list(
      principal.keyId,
      query.limit,
      query.before ? new Date(query.before) : undefined,
    );
    return {
      items: items.map(toFileView),
      nextBefore: items.length === query.limit ? items[items.length - 1].createdAt : null,
    };
  }

  @Get('search')
  @ApiOperation({ summary: "Top-k chunks of the caller's files by cosine similarity to q" })
  @ApiOkResponse({ type: SearchResultDto })
  async find(@Query() query: SearchFilesQuery, @CurrentPrincipal() principal: Principal) {
    if (query.fileId) await this.files.findVisible(query.fileId, principal.keyId);
    return {
      query: query.q,
      k: query.k,
      hits: await this.search.search(principal.keyId, query.q, query.k, query.fileId),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One file record' })
  @ApiOkResponse({ type: FileViewDto })
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return toFileView(await this.files.findVisible(id, principal.keyId));
  }

  @Get(':id/content')
  @ApiOperation({ summary: 'Download the file as uploaded' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({
    description: 'The bytes as uploaded',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  })
  async content(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const file = await this.files.findVisible(id, principal.keyId);
    const stream = await this.files.content(file);
    response.header('X-Content-Type-Options', 'nosniff');
    return new StreamableFile(stream, {
      type: file.mimeType,
      length: file.size,
      disposition: attachmentDisposition(file.originalName, `file-${file.id}`),
    });
  }

  @Get(':id/analysis')
  @ApiOperation({ summary: 'The result of the latest tasks.file.analyze_file of this file' })
  @ApiOkResponse({
    description: 'The analysis: type, encoding, counts, language, keywords, structure',
    schema: { type: 'object', additionalProperties: true },
  })
  async analysis(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    const analysis = await this.files.analysis(await this.files.findVisible(id, principal.keyId));
    return { fileId: analysis.fileId, taskId: analysis.taskId, analysedAt: analysis.analysedAt, ...analysis.result };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete the file, its content, chunks and analysis' })
  async remove(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    await this.files.delete(await this.files.findVisible(id, principal.keyId));
  }
}

export function toFileView(file: StoredFile) {
  return {
    id: file.id,
    name: file.originalName,
    size: file.size,
    sha256: file.sha256,
    mimeType: file.mimeType,
    encoding: file.encoding,
    status: file.status,
    chunkCount: file.chunkCount,
    embeddingModel: file.embeddingModel,
    error: file.error,
    createdAt: file.createdAt,
    updatedAt: file.updatedAt,
    indexedAt: file.indexedAt,
    links: { self: `/files/${file.id}`, content: `/files/${file.id}/content`, analysis: `/files/${file.id}/analysis` },
  };
}
