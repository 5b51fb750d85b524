import { Body, ConflictException, Controller, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AdminOnly, CurrentPrincipal } from '../../auth/auth.decorators';
import { Principal } from '../../auth/principal';
import { fieldErrorsException } from '../../common/field-errors';
import { CallerIdempotencyKey, IdempotencyKey } from '../../common/idempotency-key';
import { TaskSubmissionService } from '../../tasks/submit/task-submission.service';
import { toTaskView } from '../../tasks/records/task-view';
import { FileEnvironment } from '../file.environment';
import { BulkUploadArgs, BulkUploadTask } from '../file.tasks';
import { isInside } from './import-walker';

/** Bulk import of files that already sit on the server (admin only: it reads the server's disk). */
@ApiTags('files')
@ApiBearerAuth()
@Controller('files')
export class ImportsController {
  constructor(
    private readonly env: FileEnvironment,
    private readonly dataSource: DataSource,
    private readonly submission: TaskSubmissionService,
  ) {}

  @Post('import')
  @AdminOnly()
  @ApiOperation({ summary: 'Import a directory below IMPORT_ROOT (tasks.file.bulk_upload); 202 with the parent task' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async submit(
    @Body() body: BulkUploadArgs,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: CallerIdempotencyKey | undefined,
    @Req() request: FastifyRequest,
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
    const { run, created } = await this.submission.submitByName({
      name: BulkUploadTask.name,
      args: body,
      owner: principal.keyId,
      idempotencyKey: key?.key,
      callerKey: key,
      requestId: request.id,
    });
    response.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK).header('Location', `/tasks/${run.id}`);
    return toTaskView(run);
  }
}
