import {
  Body,
  Controller,
  Get,
  Headers,
  HttpException,
  HttpStatus,
  Inject,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ExportViewDto } from '../dto/file-views.dto';
import type { FastifyReply } from 'fastify';
import parseRange from 'range-parser';
import { Repository } from 'typeorm';
import { CurrentPrincipal } from '../../auth/auth.decorators';
import { Principal } from '../../auth/principal';
import { TaskSubmissionService } from '../../tasks/submit/task-submission.service';
import { acceptedTask } from '../../tasks/http/accepted-task';
import { SubmitContext, TakesIdempotencyKey } from '../../tasks/http/submit-context';
import { FileExport } from '../entities/file-export.entity';
import { ExportFileArgs, ExportFileTask } from '../file.tasks';
import { attachmentDisposition } from '../download/attachment-disposition';
import { FILE_STORAGE, FileStorage, StorageNotFoundError } from '../storage/file-storage';

/** ZIP exports: submit one, read its record, download it (resumable with Range). Owner-only: another key's export is a 404. */
@ApiTags('files')
@ApiBearerAuth()
@Controller()
export class ExportsController {
  constructor(
    @InjectRepository(FileExport) private readonly exports: Repository<FileExport>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly submission: TaskSubmissionService,
  ) {}

  @Post('files/export')
  @ApiOperation({ summary: 'Export files as one ZIP (tasks.file.export_file); 202 with the task' })
  @TakesIdempotencyKey()
  async submit(
    @Body() body: ExportFileArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return acceptedTask(response, await this.submission.submit(ExportFileTask, body, context.options()));
  }

  @Get('exports/:id')
  @ApiOperation({ summary: 'The record of a finished export (its id is the export task id)' })
  @ApiOkResponse({ type: ExportViewDto })
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return toExportView(await this.findOwned(id, principal));
  }

  @Get('exports/:id/content')
  @ApiOperation({ summary: 'Download the archive; supports Range (206/416) so a large download can resume' })
  @ApiProduces('application/zip')
  @ApiOkResponse({
    description: 'The whole archive',
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiResponse({
    status: 206,
    description: 'The requested Range of the archive',
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiResponse({ status: 416, description: 'The Range lies outside the archive' })
  async content(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
    @Headers('range') rangeHeader: string | undefined,
    @Headers('if-range') ifRange: string | undefined,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const record = await this.findOwned(id, principal);
    const size = await this.storage.size(record.storageKey).catch((error) => {
      if (error instanceof StorageNotFoundError) throw new NotFoundException(`The archive of export ${id} is gone`);
      throw error;
    });
    const etag = `"${record.sha256}"`;
    response.header('Accept-Ranges', 'bytes');
    response.header('ETag', etag);
    const options = { type: 'application/zip', disposition: attachmentDisposition(record.name, `export-${record.id}`) };
    // Range is honoured for one range; If-Range with another validator means "send it all".
    const ranges = rangeHeader && (!ifRange || ifRange === etag) ? parseRange(size, rangeHeader) : undefined;
    if (ranges === -1) {
      response.header('Content-Range', `bytes */${size}`);
      throw new HttpException(`Range ${rangeHeader} is outside the archive's ${size} bytes`, 416);
    }
    if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) {
      const { start, end } = ranges[0];
      response.status(HttpStatus.PARTIAL_CONTENT);
      response.header('Content-Range', `bytes ${start}-${end}/${size}`);
      const stream = await this.storage.open(record.storageKey, { start, end });
      return new StreamableFile(stream, { ...options, length: end - start + 1 });
    }
    return new StreamableFile(await this.storage.open(record.storageKey), { ...options, length: size });
  }

  private async findOwned(id: string, principal: Principal): Promise<FileExport> {
    const record = await this.exports.findOneBy({ id });
    if (!record || record.owner !== principal.keyId)
      throw new NotFoundException(`Export ${id} not found (a running export has a record once its task succeeds)`);
    return record;
  }
}

function toExportView(record: FileExport) {
  return {
    id: record.id,
    name: record.name,
    entries: record.entries,
    size: record.size,
    sha256: record.sha256,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    links: { self: `/exports/${record.id}`, content: `/exports/${record.id}/content`, task: `/tasks/${record.id}` },
  };
}
