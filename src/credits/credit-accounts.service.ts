import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { isUniqueViolation } from './credit-errors';
import { CreditLedger } from './credit-ledger.service';
import { systemKey } from './credit-keys';
import { CreditsService } from './credits.service';
import { CreateAccountDto, ListAccountsQuery, ListTransactionsQuery } from './dto/credit-requests.dto';
import { CreditAccount } from './entities/credit-account.entity';
import { CreditTransaction } from './entities/credit-transaction.entity';

/** Accounts as the HTTP API sees them: created, read and listed within the caller's scope. */
@Injectable()
export class CreditAccountsService {
  constructor(
    @InjectRepository(CreditAccount) private readonly accounts: Repository<CreditAccount>,
    @InjectRepository(CreditTransaction) private readonly transactions: Repository<CreditTransaction>,
    private readonly ledger: CreditLedger,
    private readonly credits: CreditsService,
  ) {}

  /** Creates an account owned by `owner`, with its opening grant in the same transaction. */
  async create(owner: string, dto: CreateAccountDto): Promise<CreditAccount> {
    const id = randomUUID();
    const expiresAt = dto.openingGrant ? this.credits.expiryOf(dto.openingGrant) : null;
    try {
      await this.ledger.transaction(async (m) => {
        await m.query(
          `INSERT INTO credit_accounts (id, owner, external_user_id, balance, expiring_balance) VALUES ($1, $2, $3, 0, 0)`,
          [id, owner, dto.externalUserId ?? null],
        );
        if (!dto.openingGrant) return;
        const account = (await this.ledger.lock(m, [id], owner)).get(id)!;
        const { amount, reference, reason } = dto.openingGrant;
        await this.credits.grantLocked(m, account, {
          amount,
          expiresAt,
          idempotencyKey: systemKey('opening-grant'),
          taskId: null,
          reference,
          reason: reason ?? 'Opening grant',
        });
      });
    } catch (error) {
      if (isUniqueViolation(error, 'credit_accounts_owner_external')) {
        const existing = await this.accounts.findOneBy({ owner, externalUserId: dto.externalUserId });
        throw new ConflictException({
          statusCode: 409,
          message: `You already have an account for externalUserId ${dto.externalUserId}`,
          accountId: existing?.id,
        });
      }
      throw error;
    }
    return this.accounts.findOneByOrFail({ id });
  }

  /** The account, or 404 — also when it belongs to someone outside `scope` (null = any owner). */
  async findVisible(id: string, scope: string | null): Promise<CreditAccount> {
    const account = await this.accounts.findOneBy({ id });
    if (!account || (scope !== null && account.owner !== scope)) throw new NotFoundException(`Account ${id} not found`);
    return account;
  }

  list(scope: string | null, query: ListAccountsQuery): Promise<CreditAccount[]> {
    const qb = this.accounts
      .createQueryBuilder('a')
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(query.limit);
    if (scope !== null) qb.andWhere('a.owner = :scope', { scope });
    if (query.externalUserId)
      qb.andWhere('a.external_user_id = :externalUserId', { externalUserId: query.externalUserId });
    return qb.getMany();
  }

  /** Newest first, keyset-paginated on the ledger sequence number. */
  async transactionsOf(
    accountId: string,
    query: ListTransactionsQuery,
  ): Promise<{ items: CreditTransaction[]; nextCursor: string | null }> {
    const qb = this.transactions
      .createQueryBuilder('t')
      .where('t.account_id = :accountId', { accountId })
      .orderBy('t.id', 'DESC')
      .limit(query.limit + 1);
    if (query.cursor) qb.andWhere('t.id < :cursor', { cursor: query.cursor });
    const rows = await qb.getMany();
    const items = rows.slice(0, query.limit);
    return { items, nextCursor: rows.length > query.limit ? String(items[items.length - 1].id) : null };
  }
}

export function toAccountView(account: CreditAccount) {
  return {
    id: account.id,
    owner: account.owner,
    externalUserId: account.externalUserId,
    balance: account.balance,
    expiringBalance: account.expiringBalance,
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
    links: { self: `/credits/accounts/${account.id}`, transactions: `/credits/accounts/${account.id}/transactions` },
  };
}

export function toTransactionView(row: CreditTransaction) {
  return {
    id: String(row.id),
    accountId: row.accountId,
    kind: row.kind,
    amount: row.amount,
    balanceAfter: row.balanceAfter,
    reference: row.reference,
    reason: row.reason,
    idempotencyKey: row.idempotencyKey,
    taskId: row.taskId,
    expiresAt: row.expiresAt,
    relatedId: row.relatedId === null ? null : String(row.relatedId),
    counterpartyAccountId: row.counterpartyAccountId,
    createdAt: row.createdAt,
  };
}
