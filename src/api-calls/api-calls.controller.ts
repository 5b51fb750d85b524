import {
  Body,
  Controller,
  Get,
  HttpStatus,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCallViewDto } from './dto/api-call-view.dto';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { CallerIdempotencyKey, IdempotencyKey } from '../common/idempotency-key';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { toTaskView } from '../tasks/records/task-view';
import { ApiCallRecords } from './api-call-records.service';
import { ApiCallArgs, ApiCallTask, WebhookArgs, WebhookTask } from './api-calls.tasks';

/** Outbound HTTP calls and webhooks: submit (202, poll `GET /tasks/:id`) and read the record. */
@ApiTags('api-calls')
@ApiBearerAuth()
@Controller()
export class ApiCallsController {
  constructor(
    private readonly submission: TaskSubmissionService,
    private readonly records: ApiCallRecords,
  ) {}

  @Post('api-calls')
  @ApiOperation({ summary: 'Submit tasks.api.call: one outbound HTTP request with retries' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  call(
    @Body() body: ApiCallArgs,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: CallerIdempotencyKey | undefined,
    @Req() request: { id?: string },
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return this.submit(ApiCallTask.name, body, principal, key, request.id, response);
  }

  @Post('webhooks')
  @ApiOperation({ summary: 'Submit tasks.api.webhook: POST a signed JSON event' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  webhook(
    @Body() body: WebhookArgs,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: CallerIdempotencyKey | undefined,
    @Req() request: { id?: string },
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return this.submit(WebhookTask.name, body, principal, key, request.id, response);
  }

  @Get('api-calls/:taskId')
  @ApiOperation({
    summary: "The request and response of a tasks.api.* task (its owner's or an admin's); 404 before the first attempt",
  })
  @ApiOkResponse({ type: ApiCallViewDto })
  async get(@Param('taskId', new ParseUUIDPipe()) taskId: string, @CurrentPrincipal() principal: Principal) {
    const call = await this.records.findVisible(taskId, principal);
    if (!call) throw new NotFoundException(`No API call record for task ${taskId}`);
    return call;
  }

  private async submit(
    name: string,
    args: object,
    principal: Principal,
    key: CallerIdempotencyKey | undefined,
    requestId: string | undefined,
    response: FastifyReply,
  ) {
    const { run, created } = await this.submission.submitByName({
      name,
      args: { ...args },
      owner: principal.keyId,
      idempotencyKey: key?.key,
      callerKey: key,
      requestId,
    });
    response.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK).header('Location', `/tasks/${run.id}`);
    return toTaskView(run);
  }
}
