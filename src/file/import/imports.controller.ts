import { Body, ConflictException, Controller, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AdminOnly } from '../../auth/auth.decorators';
import { fieldErrorsException } from '../../common/field-errors';
import { TaskSubmissionService } from '../../tasks/submit/task-submission.service';
import { acceptedTask } from '../../tasks/http/accepted-task';
import { SubmitContext, TakesIdempotencyKey } from '../../tasks/http/submit-context';
import { AppConfig } from '../../config/app-config';
import { FileEnvironment } from '../file.environment';
import { BulkUploadArgs, BulkUploadTask } from '../file.tasks';
import { isInside } from './import-walker';

/** Bulk import of files that already sit on the server (admin only: it reads the server's disk). */
@ApiTags('files')
@ApiBearerAuth()
@Controller('files')
export class ImportsController {
  private readonly env: FileEnvironment;

  constructor(
    config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly submission: TaskSubmissionService,
  ) {
    this.env = config.section(FileEnvironment);
  }

  @Post('import')
  @AdminOnly()
  @ApiOperation({ summary: 'Import a directory below IMPORT_ROOT (tasks.file.bulk_upload); 202 with the parent task' })
  @TakesIdempotencyKey()
  async submit(
    @Body() body: BulkUploadArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    if (!this.env.IMPORT_ROOT)
      throw new ConflictException(
        'Imports are disabled on this service: set IMPORT_ROOT to the directory to import from',
      );
    // The worker checks all of this again (and symlinks per file); here the caller gets a clear 400 at once.
    const root = await realpath(this.env.IMPORT_ROOT);
    const start = await realpath(join(root, body.directory)).catch(() => null);
    const isDirectory = start !== null && isInside(root, start) && (await stat(start)).isDirectory();
    if (!isDirectory)
      throw fieldErrorsException([
        {
          field: 'directory',
          rule: 'exists',
          message: `directory ${body.directory} is not a directory below IMPORT_ROOT`,
        },
      ]);
    if (body.ownerKeyId) {
      const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM api_keys WHERE id = $1`, [body.ownerKeyId]);
      if (rows.length === 0)
        throw fieldErrorsException([
          { field: 'ownerKeyId', rule: 'exists', message: `ownerKeyId ${body.ownerKeyId} is not an API key` },
        ]);
    }
    return acceptedTask(response, await this.submission.submit(BulkUploadTask, body, context.options()));
  }
}
