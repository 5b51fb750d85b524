import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveryService } from './delivery.service';
import { EmailController } from './email.controller';
import { EmailHandlers } from './email.handlers';
import { EmailService } from './email.service';
import { EmailSender } from './email-sender';
import { EmailTemplates } from './email-templates';
import { FileModule } from '../file/file.module';
import { EmailDelivery } from './entities/email-delivery.entity';
import { EmailMessage } from './entities/email-message.entity';
import { EmailNotification } from './entities/email-notification.entity';
import { NotificationService } from './notification.service';

/**
 * E-mail: `tasks.email.send_email`, `tasks.email.send_notification` and its `tasks.email.deliver`
 * children on the `email_tasks` queue, over SMTP (`SMTP_URL`) or into `.eml` files.
 */
@Module({
  imports: [TypeOrmModule.forFeature([EmailMessage, EmailNotification, EmailDelivery]), FileModule],
  controllers: [EmailController],
  providers: [
    { provide: EmailTemplates, useFactory: () => EmailTemplates.load() },
    EmailSender,
    EmailService,
    DeliveryService,
    NotificationService,
    EmailHandlers,
  ],
})
export class EmailModule {}
