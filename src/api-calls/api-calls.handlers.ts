import { Injectable } from '@nestjs/common';
import { TaskContext, TaskHandler } from '../tasks/task-definition';
import { ApiCallResult, ApiCallsService } from './api-calls.service';
import { ApiCallArgs, ApiCallTask, WebhookArgs, WebhookTask } from './api-calls.tasks';

/** `tasks.api.*`: no resource in the arguments to own; the record carries `ctx.owner`. */
@Injectable()
export class ApiCallsHandlers {
  constructor(private readonly apiCalls: ApiCallsService) {}

  @TaskHandler(ApiCallTask)
  call(args: ApiCallArgs, ctx: TaskContext<ApiCallArgs>): Promise<ApiCallResult> {
    return this.apiCalls.call(args, ctx);
  }

  @TaskHandler(WebhookTask)
  webhook(args: WebhookArgs, ctx: TaskContext<WebhookArgs>): Promise<ApiCallResult> {
    return this.apiCalls.webhook(args, ctx);
  }
}
