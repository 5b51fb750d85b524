import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreditAccess } from './credit-access.service';
import { CreditAccountsService } from './credit-accounts.service';
import { CreditConsumeBatcher } from './credit-consume.batcher';
import { CreditExpiryScheduler } from './credit-expiry.scheduler';
import { CreditExpiryService } from './credit-expiry.service';
import { CreditLedger } from './credit-ledger.service';
import { CreditTransferService } from './credit-transfer.service';
import { CreditsController } from './credits.controller';
import { CreditsHandlers } from './credits.handlers';
import { CreditsService } from './credits.service';
import { CreditAccount } from './entities/credit-account.entity';
import { CreditTransaction } from './entities/credit-transaction.entity';

/** The credits (points) ledger: accounts, the append-only ledger and the `tasks.credits.*` handlers. */
@Module({
  imports: [TypeOrmModule.forFeature([CreditAccount, CreditTransaction])],
  controllers: [CreditsController],
  providers: [
    CreditAccess,
    CreditLedger,
    CreditConsumeBatcher,
    CreditsService,
    CreditTransferService,
    CreditExpiryService,
    CreditAccountsService,
    CreditExpiryScheduler,
    CreditsHandlers,
  ],
})
export class CreditsModule {}
