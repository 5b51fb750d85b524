import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../test/support/spec-database';
import { specTaskContext } from '../../test/support/spec-task-context';
import { CreditAccess } from './credit-access.service';
import { CreditLedger } from './credit-ledger.service';
import { CreditTransferService } from './credit-transfer.service';

const OWNER = randomUUID();

describe('CreditTransferService (PostgreSQL)', () => {
  const db = useSpecDatabase();
  let sut: CreditTransferService;
  const ctx = () => specTaskContext({ owner: OWNER });

  beforeEach(async () => {
    await db.current.empty('credit_grant_lots', 'credit_transactions', 'credit_accounts');
    sut = new CreditTransferService(new CreditLedger(db.current.dataSource), new CreditAccess(db.current.dataSource));
  });

  async function account(balance: number, owner = OWNER): Promise<string> {
    const id = randomUUID();
    await db.current.dataSource.query(`INSERT INTO credit_accounts (id, owner, balance) VALUES ($1, $2, $3)`, [
      id,
      owner,
      balance,
    ]);
    return id;
  }

  const balances = async (...ids: string[]) => {
    const rows: { id: string; balance: number; expiring: number }[] = await db.current.dataSource.query(
      `SELECT id, balance::int, expiring_balance::int AS expiring FROM credit_accounts WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return ids.map((id) => rows.find((r) => r.id === id)!.balance);
  };

  const ledgerRows = async () =>
    (await db.current.dataSource.query(`SELECT count(*)::int AS n FROM credit_transactions`))[0].n as number;

  it('moves the points in one step: an outgoing row on the source, an incoming row on the destination', async () => {
    const from = await account(10);
    const to = await account(1);
    const result = await sut.transfer({ fromAccountId: from, toAccountId: to, amount: 4 }, ctx());
    expect(result).toMatchObject({ fromAccountId: from, toAccountId: to, amount: 4, fromBalance: 6, toBalance: 5 });
    const rows = await db.current.dataSource.query(
      `SELECT id::text, account_id, kind, amount::int, related_id::text, counterparty_account_id FROM credit_transactions ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: result.transactionId,
        account_id: from,
        kind: 'TRANSFER_OUT',
        amount: -4,
        related_id: null,
        counterparty_account_id: to,
      },
      {
        id: result.incomingTransactionId,
        account_id: to,
        kind: 'TRANSFER_IN',
        amount: 4,
        related_id: result.transactionId,
        counterparty_account_id: from,
      },
    ]);
  });

  it('replays a repeated key without moving the points again', async () => {
    const from = await account(10);
    const to = await account(0);
    const args = { fromAccountId: from, toAccountId: to, amount: 4, idempotencyKey: 'move-1' };
    const first = await sut.transfer(args, ctx());
    await expect(sut.transfer(args, ctx())).resolves.toEqual({ ...first, duplicate: true });
    await expect(balances(from, to)).resolves.toEqual([6, 4]);
  });

  it('refuses a key reused towards another destination with IdempotencyConflict', async () => {
    const from = await account(10);
    const [to, elsewhere] = [await account(0), await account(0)];
    await sut.transfer({ fromAccountId: from, toAccountId: to, amount: 4, idempotencyKey: 'k' }, ctx());
    await expect(
      sut.transfer({ fromAccountId: from, toAccountId: elsewhere, amount: 4, idempotencyKey: 'k' }, ctx()),
    ).rejects.toMatchObject({ name: 'IdempotencyConflict' });
    await expect(balances(from, to, elsewhere)).resolves.toEqual([6, 4, 0]);
  });

  it('fails a transfer that would overdraw the source with InsufficientCredits and writes nothing', async () => {
    const from = await account(3);
    const to = await account(0);
    await expect(sut.transfer({ fromAccountId: from, toAccountId: to, amount: 4 }, ctx())).rejects.toMatchObject({
      name: 'InsufficientCredits',
    });
    await expect(balances(from, to)).resolves.toEqual([3, 0]);
    await expect(ledgerRows()).resolves.toBe(0);
  });

  it('refuses a transfer to the same account, and one touching an account of another owner', async () => {
    const mine = await account(10);
    const theirs = await account(10, randomUUID());
    await expect(sut.transfer({ fromAccountId: mine, toAccountId: mine, amount: 1 }, ctx())).rejects.toMatchObject({
      name: 'InvalidTransfer',
    });
    await expect(sut.transfer({ fromAccountId: mine, toAccountId: theirs, amount: 1 }, ctx())).rejects.toMatchObject({
      name: 'UnknownAccount',
    });
    await expect(balances(mine, theirs)).resolves.toEqual([10, 10]);
  });

  it('keeps the total when transfers run both ways at once (locks in id order, no deadlock)', async () => {
    const a = await account(100);
    const b = await account(100);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        sut.transfer(
          i % 2 === 0
            ? { fromAccountId: a, toAccountId: b, amount: 3 }
            : { fromAccountId: b, toAccountId: a, amount: 2 },
          ctx(),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await expect(balances(a, b)).resolves.toEqual([100 - 15 * 3 + 15 * 2, 100 + 15 * 3 - 15 * 2]);
  });
});
