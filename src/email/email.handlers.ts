import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { TaskContext, TaskHandler } from '../tasks/task-definition';
import { DeliveryService, DrainTally } from './delivery.service';
import { EmailService, SendEmailResult } from './email.service';
import {
  DeliverArgs,
  DeliverTask,
  SendEmailArgs,
  SendEmailTask,
  SendNotificationArgs,
  SendNotificationTask,
} from './email.tasks';
import { NotificationResult, NotificationService } from './notification.service';

/** The e-mail tasks; the work is in the services. */
@Injectable()
export class EmailHandlers {
  constructor(
    private readonly emails: EmailService,
    private readonly notifications: NotificationService,
    private readonly deliveries: DeliveryService,
  ) {}

  @TaskHandler(SendEmailTask)
  sendEmail(args: SendEmailArgs, ctx: TaskContext<SendEmailArgs>): Promise<SendEmailResult> {
    return this.emails.send(args, ctx);
  }

  @TaskHandler(SendNotificationTask)
  sendNotification(args: SendNotificationArgs, ctx: TaskContext<SendNotificationArgs>): Promise<NotificationResult> {
    return this.notifications.run(args, ctx);
  }

  @TaskHandler(DeliverTask)
  async deliver(args: DeliverArgs, ctx: TaskContext<DeliverArgs>): Promise<DrainTally & { batch: number }> {
    const notification = await this.deliveries.notification(args.notificationId);
    // Another client's notification is reported exactly like a missing one.
    if (!notification || (ctx.owner !== null && notification.owner !== ctx.owner))
      throw new UnrecoverableError(`Notification ${args.notificationId} not found`);
    return { batch: args.batch, ...(await this.deliveries.drainBatch(notification, args.batch, ctx.signal)) };
  }
}
