import { Injectable } from '@nestjs/common';
import { TaskContext, TaskHandler } from '../tasks/task-definition';
import { CreditExpiryService, ExpireResult } from './credit-expiry.service';
import { CreditResult } from './credit-results';
import { CreditTransferService, TransferResult } from './credit-transfer.service';
import { CreditsService } from './credits.service';
import {
  ConsumeArgs,
  ConsumeTask,
  ExpireArgs,
  ExpireTask,
  GrantArgs,
  GrantTask,
  RefundArgs,
  RefundTask,
  TransferArgs,
  TransferTask,
} from './credits.tasks';

/** The `tasks.credits.*` handlers: thin, the ledger logic lives in the services. */
@Injectable()
export class CreditsHandlers {
  constructor(
    private readonly credits: CreditsService,
    private readonly transfers: CreditTransferService,
    private readonly expiry: CreditExpiryService,
  ) {}

  @TaskHandler(GrantTask)
  grant(args: GrantArgs, ctx: TaskContext<GrantArgs>): Promise<CreditResult> {
    return this.credits.grant(args, ctx);
  }

  @TaskHandler(ConsumeTask)
  consume(args: ConsumeArgs, ctx: TaskContext<ConsumeArgs>): Promise<CreditResult> {
    return this.credits.consume(args, ctx);
  }

  @TaskHandler(RefundTask)
  refund(args: RefundArgs, ctx: TaskContext<RefundArgs>): Promise<CreditResult> {
    return this.credits.refund(args, ctx);
  }

  @TaskHandler(TransferTask)
  transfer(args: TransferArgs, ctx: TaskContext<TransferArgs>): Promise<TransferResult> {
    return this.transfers.transfer(args, ctx);
  }

  @TaskHandler(ExpireTask)
  expire(args: ExpireArgs, ctx: TaskContext<ExpireArgs>): Promise<ExpireResult> {
    return this.expiry.expire(args, ctx);
  }
}
