import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  MessageEvent,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  Sse,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RegisteredTaskDto, TaskBatchDto, TaskPageDto, TaskViewDto } from './dto/task-view.dto';
import type { FastifyReply } from 'fastify';
import { distinctUntilChanged, from, interval, map, Observable, startWith, switchMap, takeWhile } from 'rxjs';
import { CurrentPrincipal } from '../../auth/auth.decorators';
import { callerIdempotencyKey } from '../../common/idempotency-key';
import { Principal } from '../../auth/principal';
import { GetTaskQuery, ListTasksQuery } from './dto/list-tasks-query.dto';
import { SubmitBatchDto, SubmitTaskDto } from './dto/submit-task.dto';
import { TaskCompletions } from '../records/task-completions.service';
import { TaskControlService } from '../run/task-control.service';
import { TaskQueryService } from '../records/task-query.service';
import { TaskRegistry } from '../task-registry.service';
import { TaskRetryPolicies } from '../run/task-retry-policy';
import { TaskSubmissionService } from '../submit/task-submission.service';
import { isFinal } from '../task-state';
import { toTaskView } from '../records/task-view';
import { acceptedTask } from './accepted-task';
import { SubmitContext, TakesIdempotencyKey } from './submit-context';

const EVENTS_POLL_MS = 250;

/** Submit tasks, poll them, cancel and retry them. */
@ApiTags('tasks')
@ApiBearerAuth()
@Controller('tasks')
export class TasksController {
  constructor(
    private readonly registry: TaskRegistry,
    private readonly submission: TaskSubmissionService,
    private readonly query: TaskQueryService,
    private readonly control: TaskControlService,
    private readonly completions: TaskCompletions,
    private readonly retryPolicies: TaskRetryPolicies,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Submit a task; 202 with its record (200 if an Idempotency-Key matched an earlier task)' })
  @TakesIdempotencyKey()
  @ApiAcceptedResponse({ type: TaskViewDto, description: 'The task is recorded and queued' })
  @ApiOkResponse({ type: TaskViewDto, description: 'The earlier task of this Idempotency-Key (same payload)' })
  async submit(
    @Body() body: SubmitTaskDto,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    // The header wins; the body's key is read only without one (and a bad one is a 400 naming its field).
    const bodyKey = context.header
      ? undefined
      : callerIdempotencyKey(body.options?.idempotencyKey, 'options.idempotencyKey');
    // The caller names the task: the registry checks the name at run time.
    const submitted = await this.submission.submitByName({
      ...context.options(bodyKey),
      name: body.name,
      args: body.args,
      delayMs: body.options?.delay,
      priority: body.options?.priority,
      timeoutMs: body.options?.timeout,
    });
    return acceptedTask(response, submitted);
  }

  @Post('batch')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Submit up to 1,000 tasks in one request (one transaction, one addBulk)' })
  @ApiAcceptedResponse({ type: TaskBatchDto })
  async submitBatch(@Body() body: SubmitBatchDto, @SubmitContext() context: SubmitContext) {
    const runs = await this.submission.submitMany(
      body.tasks.map((t) => ({
        name: t.name,
        args: t.args,
        owner: context.owner,
        delayMs: t.options?.delay,
        priority: t.options?.priority,
        timeoutMs: t.options?.timeout,
        requestId: context.requestId,
      })),
    );
    return { count: runs.length, tasks: runs.map(toTaskView) };
  }

  @Get('registered')
  @ApiOperation({ summary: "Every registered task with its queue, retry policy and timeout (Celery's tasks.keys())" })
  @ApiOkResponse({ type: [RegisteredTaskDto] })
  registered() {
    return this.registry.all().map(({ definition, queue, queueSource }) => ({
      name: definition.name,
      description: definition.description,
      queue,
      queueSource,
      // The effective policy: the declaration with any TASK_RETRY_OVERRIDES entry on top.
      maxAttempts: this.retryPolicies.policyFor(definition.name).attempts,
      backoffMs: this.retryPolicies.policyFor(definition.name).backoffMs,
      timeoutMs: definition.timeoutMs,
    }));
  }

  @Get()
  @ApiOperation({ summary: 'List tasks, newest first, filtered by name, state and creation time' })
  @ApiOkResponse({ type: TaskPageDto })
  async list(@Query() query: ListTasksQuery, @CurrentPrincipal() principal: Principal) {
    const { items, nextCursor } = await this.query.list(query, principal);
    return { items: items.map(toTaskView), nextCursor };
  }

  @Get(':id')
  @ApiOperation({
    summary: "A task's state, progress, result or error (Celery's AsyncResult); ?wait=ms long-polls until it finishes",
  })
  @ApiOkResponse({ type: TaskViewDto })
  async get(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() { wait }: GetTaskQuery,
    @CurrentPrincipal() principal: Principal,
  ) {
    if (!wait) return toTaskView(await this.query.findVisible(id, principal));
    // Wait first, then read: a finish between the read and the wait would otherwise be missed.
    const waiter = this.completions.waitFor(id, wait);
    const run = await this.query.findVisible(id, principal).catch((error) => {
      waiter.cancel();
      throw error;
    });
    if (isFinal(run.state)) {
      waiter.cancel();
      return toTaskView(run);
    }
    await waiter.done;
    return toTaskView(await this.query.findVisible(id, principal));
  }

  @Post(':id/cancel')
  @ApiOperation({
    summary:
      'Revoke a waiting, delayed or running task: 200 with the REVOKED task, or 202 when a running non-abortable task was asked to stop',
  })
  @ApiOkResponse({ type: TaskViewDto, description: 'The task is REVOKED' })
  @ApiAcceptedResponse({ type: TaskViewDto, description: 'A running task that cannot abort was asked to stop' })
  async cancel(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const { run, pending } = await this.control.cancel(await this.query.findVisible(id, principal));
    response.status(pending ? HttpStatus.ACCEPTED : HttpStatus.OK);
    return toTaskView(run);
  }

  @Post(':id/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Run a FAILURE or REVOKED task again' })
  @ApiAcceptedResponse({ type: TaskViewDto })
  async retry(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return toTaskView(await this.control.retry(await this.query.findVisible(id, principal)));
  }

  @Sse(':id/events')
  @ApiOperation({ summary: 'Server-Sent Events of state and progress; the stream ends with the final state' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'One `data:` line per change, JSON: state, progress, result, error, attempts',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  async events(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Observable<MessageEvent>> {
    await this.query.findVisible(id, principal);
    return interval(EVENTS_POLL_MS).pipe(
      startWith(0),
      switchMap(() => from(this.query.findVisible(id, principal))),
      map((run) => ({
        state: run.state,
        progress: run.progress,
        result: run.result,
        error: run.error ? { type: run.error.type, message: run.error.message } : null,
        attempts: run.attempts,
      })),
      distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
      takeWhile((event) => !isFinal(event.state), true),
      map((data) => ({ data })),
    );
  }
}
