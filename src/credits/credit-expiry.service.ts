import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TaskContext } from '../tasks/task-definition';
import { CreditAccess } from './credit-access.service';
import { forbidden } from './credit-errors';
import { CreditLedger } from './credit-ledger.service';
import { toPoints } from './credit-limits';
import { ExpireArgs } from './credits.tasks';

const ACCOUNTS_PER_ROUND = 200;

export interface ExpireResult {
  asOf: string;
  accounts: number;
  grants: number;
  points: number;
}

/**
 * Expires what is left of every grant due at `asOf`, one account per transaction (a long run
 * never holds many locks, and a crash loses nothing: the next run, or the re-delivered task,
 * finds only what is still due). Runs daily from {@link CreditExpiryScheduler}.
 */
@Injectable()
export class CreditExpiryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledger: CreditLedger,
    private readonly access: CreditAccess,
  ) {}

  async expire(args: ExpireArgs, ctx: TaskContext): Promise<ExpireResult> {
    // Expiry is an operator's job: the scheduler (owner null) or an admin key.
    if ((await this.access.scopeOfTask(ctx.owner)) !== null) throw forbidden('Only the scheduler or an admin key may run tasks.credits.expire');
    const asOf = args.asOf ? new Date(args.asOf) : new Date();
    const result: ExpireResult = { asOf: asOf.toISOString(), accounts: 0, grants: 0, points: 0 };
    for (;;) {
      ctx.signal.throwIfAborted();
      const due: { account_id: string }[] = await this.dataSource.query(
        `SELECT DISTINCT account_id FROM credit_grant_lots WHERE remaining > 0 AND expires_at <= $1 AND ($2::uuid IS NULL OR account_id = $2::uuid) LIMIT ${ACCOUNTS_PER_ROUND}`,
        [asOf, args.accountId ?? null],
      );
      if (due.length === 0) return result;
      const before = result.grants;
      for (const { account_id: accountId } of due) {
        const expired = await this.ledger.transaction(async (m) => {
          const account = (await this.ledger.lock(m, [accountId], null)).get(accountId)!;
          return this.ledger.expireDue(m, account, asOf, ctx.taskId);
        });
        result.accounts += 1;
        result.grants += expired.length;
        result.points += expired.reduce((sum, row) => sum - toPoints(row.amount), 0);
      }
      // Due lots that expire nothing mean expiring_balance and the lots disagree: stop, loudly.
      if (result.grants === before) throw new Error(`Expiry made no progress on accounts ${due.map((d) => d.account_id).join(', ')}: their lots and expiring balance disagree`);
      ctx.progress({ accounts: result.accounts, grants: result.grants, points: result.points });
    }
  }
}
