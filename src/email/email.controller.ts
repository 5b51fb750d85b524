import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { MoreThan, Repository } from 'typeorm';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { isAdmin, Principal } from '../auth/principal';
import { TaskQueryService } from '../tasks/records/task-query.service';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { acceptedTask } from '../tasks/http/accepted-task';
import { SubmitContext, TakesIdempotencyKey } from '../tasks/http/submit-context';
import { EmailMessageDto, RecipientPageDto } from './dto/email-views.dto';
import { RecipientsQuery } from './dto/recipients-query.dto';
import { EmailService } from './email.service';
import { SendEmailArgs, SendEmailTask, SendNotificationArgs, SendNotificationTask } from './email.tasks';
import { EmailDelivery } from './entities/email-delivery.entity';
import { EmailMessage } from './entities/email-message.entity';
import { NotificationService } from './notification.service';

/** E-mail endpoints: thin wrappers over task submission, plus the delivery records. */
@ApiTags('email')
@ApiBearerAuth()
@Controller()
export class EmailController {
  constructor(
    private readonly submission: TaskSubmissionService,
    private readonly query: TaskQueryService,
    private readonly emails: EmailService,
    private readonly notifications: NotificationService,
    @InjectRepository(EmailMessage) private readonly messages: Repository<EmailMessage>,
    @InjectRepository(EmailDelivery) private readonly deliveries: Repository<EmailDelivery>,
  ) {}

  @Post('emails')
  @ApiOperation({ summary: 'Send one e-mail (tasks.email.send_email); 202 with the task' })
  @TakesIdempotencyKey()
  async sendEmail(
    @Body() body: SendEmailArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    await this.emails.attachedFiles(body, context.owner);
    const submitted = await this.submission.submit(SendEmailTask, body, context.options());
    const { run, created } = submitted;
    if (created) await this.emails.record(run.id, run.owner, run.args as SendEmailArgs);
    const view = acceptedTask(response, submitted, `/emails/${run.id}`);
    return { ...view, links: { ...view.links, email: `/emails/${run.id}` } };
  }

  @Post('notifications')
  @ApiOperation({
    summary: 'Send a templated notification to many recipients (tasks.email.send_notification); 202 with the task',
  })
  @TakesIdempotencyKey()
  async sendNotification(
    @Body() body: SendNotificationArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const view = acceptedTask(response, await this.submission.submit(SendNotificationTask, body, context.options()));
    return { ...view, links: { ...view.links, recipients: `/notifications/${view.id}/recipients` } };
  }

  @Get('emails/:id')
  @ApiOperation({ summary: 'The delivery record of one e-mail: status, SMTP message id and reply, attempts, error' })
  @ApiOkResponse({ type: EmailMessageDto })
  async getEmail(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    const row = await this.messages.findOneBy({ id });
    if (!row || (!isAdmin(principal) && row.owner !== principal.keyId))
      throw new NotFoundException(`E-mail ${id} not found`);
    return { ...row, links: { self: `/emails/${id}`, task: `/tasks/${id}` } };
  }

  @Get('notifications/:taskId/recipients')
  @ApiOperation({ summary: 'Per-recipient status of a notification, by address, paginated with nextCursor' })
  @ApiOkResponse({ type: RecipientPageDto })
  async recipients(
    @Param('taskId', new ParseUUIDPipe()) taskId: string,
    @Query() query: RecipientsQuery,
    @CurrentPrincipal() principal: Principal,
  ) {
    const run = await this.query.findVisible(taskId, principal);
    if (run.name !== SendNotificationTask.name) throw new NotFoundException(`Notification ${taskId} not found`);
    const rows = await this.deliveries.find({
      where: {
        notificationId: taskId,
        ...(query.status ? { status: query.status } : {}),
        ...(query.cursor ? { addressKey: MoreThan(query.cursor) } : {}),
      },
      order: { addressKey: 'ASC' },
      take: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    return {
      taskId,
      state: run.state,
      counts: await this.notifications.counts(taskId),
      items: items.map((d) => ({
        address: d.address,
        status: d.status,
        attempts: d.attempts,
        messageId: d.messageId,
        smtpResponse: d.smtpResponse,
        error: d.error,
        sentAt: d.sentAt,
        updatedAt: d.updatedAt,
      })),
      nextCursor: rows.length > query.limit ? items[items.length - 1].addressKey : null,
    };
  }
}
