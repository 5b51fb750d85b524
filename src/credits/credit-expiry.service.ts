import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TaskContext } from '../tasks/task-definition';
import { CreditAccess } from './credit-access.service';
import { futureAsOf } from './credit-as-of';
import { CreditRuleError, forbidden } from './credit-errors';
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
    if ((await this.access.scopeOfTask(ctx.owner)) !== null)
      throw forbidden('Only the scheduler or an admin key may run tasks.credits.expire');
    // A caller's run (POST /tasks, the Celery ingress) is held to the rule POST /credits/expire checks with a 400.
    const future = ctx.owner === null ? undefined : futureAsOf(args.asOf, 'args.asOf');
    if (future) throw new CreditRuleError('AsOfInFuture', future.message);
    const asOf = args.asOf ? new Date(args.asOf) : new Date();
    const result: ExpireResult = { asOf: asOf.toISOString(), accounts: 0, grants: 0, points: 0 };
    // One account that cannot be expired must not hold up the others: it is skipped and reported.
    const failed = new Map<string, string>();
    for (;;) {
      ctx.signal.throwIfAborted();
      const due: { account_id: string }[] = await this.dataSource.query(
        `SELECT DISTINCT account_id FROM credit_grant_lots
         WHERE remaining > 0 AND expires_at <= $1 AND ($2::uuid IS NULL OR account_id = $2::uuid) AND account_id <> ALL($3::uuid[])
         LIMIT ${ACCOUNTS_PER_ROUND}`,
        [asOf, args.accountId ?? null, [...failed.keys()]],
      );
      if (due.length === 0) break;
      for (const { account_id: accountId } of due) {
        try {
          const expired = await this.ledger.transaction(async (m) => {
            const account = (await this.ledger.lock(m, [accountId], null)).get(accountId)!;
            const rows = await this.ledger.expireDue(m, account, asOf, ctx.taskId);
            // Nothing expired is fine if a consume expired the lots meanwhile; lots still due
            // would mean the expiring balance and the lots disagree.
            const [stillDue] =
              rows.length > 0
                ? []
                : await m.query(
                    `SELECT 1 FROM credit_grant_lots WHERE account_id = $1 AND remaining > 0 AND expires_at <= $2 LIMIT 1`,
                    [accountId, asOf],
                  );
            if (stillDue) throw new Error('its lots and expiring balance disagree');
            return rows;
          });
          if (expired.length === 0) continue;
          result.accounts += 1;
          result.grants += expired.length;
          result.points += expired.reduce((sum, row) => sum - toPoints(row.amount), 0);
        } catch (error) {
          failed.set(accountId, error.message);
          ctx.logger.error({
            msg: 'Could not expire the grants of an account',
            taskId: ctx.taskId,
            accountId,
            error: error.message,
          });
        }
      }
      ctx.progress({ accounts: result.accounts, grants: result.grants, points: result.points });
    }
    // The task retries (and the next daily run tries again); what did expire stays expired.
    if (failed.size > 0)
      throw new Error(
        `Expired ${result.grants} grants, but ${failed.size} account(s) failed: ${[...failed]
          .slice(0, 5)
          .map(([id, message]) => `${id} (${message})`)
          .join(', ')}`,
      );
    return result;
  }
}
