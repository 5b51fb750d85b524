import { Injectable } from '@nestjs/common';
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
  deliver(args: DeliverArgs, ctx: TaskContext<DeliverArgs>): Promise<DrainTally & { batch: number }> {
    return this.deliveries.deliver(args, ctx);
  }
}
