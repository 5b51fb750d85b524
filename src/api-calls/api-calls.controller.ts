import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCallViewDto } from './dto/api-call-view.dto';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { acceptedTask } from '../tasks/http/accepted-task';
import { SubmitContext, TakesIdempotencyKey } from '../tasks/http/submit-context';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { TaskDefinition } from '../tasks/task-definition';
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
  @TakesIdempotencyKey()
  call(
    @Body() body: ApiCallArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return this.submit(ApiCallTask, { ...body }, context, response);
  }

  @Post('webhooks')
  @ApiOperation({ summary: 'Submit tasks.api.webhook: POST a signed JSON event' })
  @TakesIdempotencyKey()
  webhook(
    @Body() body: WebhookArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return this.submit(WebhookTask, { ...body }, context, response);
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

  private async submit<Args extends object>(
    task: TaskDefinition<Args>,
    args: Args,
    context: SubmitContext,
    response: FastifyReply,
  ) {
    return acceptedTask(response, await this.submission.submit(task, args, context.options()));
  }
}
