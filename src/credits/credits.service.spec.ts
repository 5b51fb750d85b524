import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../test/support/spec-database';
import { specTaskContext } from '../../test/support/spec-task-context';
import { AppConfig } from '../config/app-config';
import { CreditAccess } from './credit-access.service';
import { CreditConsumeBatcher } from './credit-consume.batcher';
import { CreditLedger } from './credit-ledger.service';
import { MAX_BALANCE } from './credit-limits';
import { CreditsService } from './credits.service';

const OWNER = randomUUID();
const HOUR = 3600_000;

describe('CreditsService: grants, consumes and refunds (PostgreSQL)', () => {
  const db = useSpecDatabase();
  let sut: CreditsService;
  const ctx = (owner: string | null = OWNER) => specTaskContext({ owner });

  beforeEach(async () => {
    await db.current.empty('credit_grant_lots', 'credit_transactions', 'credit_accounts');
    const { dataSource } = db.current;
    const config = AppConfig.fromEnv({ TZ: 'Asia/Shanghai' });
    sut = new CreditsService(
      new CreditConsumeBatcher(dataSource),
      new CreditLedger(dataSource),
      new CreditAccess(dataSource),
      config,
    );
  });

  async function account(owner = OWNER): Promise<string> {
    const id = randomUUID();
    await db.current.dataSource.query(`INSERT INTO credit_accounts (id, owner) VALUES ($1, $2)`, [id, owner]);
    return id;
  }

  async function state(id: string) {
    const [row] = await db.current.dataSource.query(
      `SELECT balance::int, expiring_balance::int AS expiring,
              (SELECT count(*)::int FROM credit_transactions t WHERE t.account_id = a.id) AS rows,
              (SELECT COALESCE(SUM(amount), 0)::int FROM credit_transactions t WHERE t.account_id = a.id) AS ledger
       FROM credit_accounts a WHERE id = $1`,
      [id],
    );
    return row as { balance: number; expiring: number; rows: number; ledger: number };
  }

  const lots = (id: string): Promise<{ remaining: number }[]> =>
    db.current.dataSource.query(
      `SELECT remaining::int FROM credit_grant_lots WHERE account_id = $1 ORDER BY expires_at`,
      [id],
    );

  describe('consume', () => {
    it('takes the points once per idempotency key: a repeat returns the first row as a duplicate', async () => {
      const id = await account();
      await sut.grant({ accountId: id, amount: 10 }, ctx());
      const first = await sut.consume({ accountId: id, amount: 4, idempotencyKey: 'order-7' }, ctx());
      const again = await sut.consume({ accountId: id, amount: 4, idempotencyKey: 'order-7' }, ctx());
      expect(first).toMatchObject({ kind: 'CONSUME', amount: 4, balance: 6, duplicate: false });
      expect(again).toEqual({ ...first, duplicate: true });
      await expect(state(id)).resolves.toMatchObject({ balance: 6, rows: 2, ledger: 6 });
    });

    it('keys a consume without a caller key by its task id, so a redelivered task charges once', async () => {
      const id = await account();
      await sut.grant({ accountId: id, amount: 10 }, ctx());
      const delivery = ctx();
      await sut.consume({ accountId: id, amount: 3 }, delivery);
      await expect(sut.consume({ accountId: id, amount: 3 }, delivery)).resolves.toMatchObject({ duplicate: true });
      await expect(sut.consume({ accountId: id, amount: 3 }, ctx())).resolves.toMatchObject({ duplicate: false });
      await expect(state(id)).resolves.toMatchObject({ balance: 4 });
    });

    it('fails a consume that would overdraw with InsufficientCredits and writes nothing', async () => {
      const id = await account();
      await sut.grant({ accountId: id, amount: 5 }, ctx());
      await expect(sut.consume({ accountId: id, amount: 6 }, ctx())).rejects.toMatchObject({
        name: 'InsufficientCredits',
        message: expect.stringContaining('holds 5 points, 6 requested'),
      });
      await expect(state(id)).resolves.toMatchObject({ balance: 5, rows: 1 });
    });

    it('fails a key reused for another amount with IdempotencyConflict and charges nothing', async () => {
      const id = await account();
      await sut.grant({ accountId: id, amount: 10 }, ctx());
      await sut.consume({ accountId: id, amount: 2, idempotencyKey: 'k' }, ctx());
      await expect(sut.consume({ accountId: id, amount: 3, idempotencyKey: 'k' }, ctx())).rejects.toMatchObject({
        name: 'IdempotencyConflict',
      });
      await expect(state(id)).resolves.toMatchObject({ balance: 8 });
    });

    it("treats another client's account as unknown, while the service itself may use any account", async () => {
      const theirs = await account(randomUUID());
      await sut.grant({ accountId: theirs, amount: 10 }, ctx(null));
      await expect(sut.consume({ accountId: theirs, amount: 1 }, ctx())).rejects.toMatchObject({
        name: 'UnknownAccount',
      });
      await expect(sut.consume({ accountId: theirs, amount: 1 }, ctx(null))).resolves.toMatchObject({ balance: 9 });
    });

    it('spends the earliest-expiring grant first, then the ones that never expire', async () => {
      const id = await account();
      await sut.grant({ accountId: id, amount: 5 }, ctx());
      await sut.grant({ accountId: id, amount: 4, expiresAt: new Date(Date.now() + 48 * HOUR).toISOString() }, ctx());
      await sut.grant({ accountId: id, amount: 3, expiresAt: new Date(Date.now() + 24 * HOUR).toISOString() }, ctx());
      await sut.consume({ accountId: id, amount: 5 }, ctx());
      await expect(lots(id)).resolves.toEqual([{ remaining: 0 }, { remaining: 2 }]);
      await expect(state(id)).resolves.toMatchObject({ balance: 7, expiring: 2 });
      await sut.consume({ accountId: id, amount: 4 }, ctx());
      await expect(lots(id)).resolves.toEqual([{ remaining: 0 }, { remaining: 0 }]);
      await expect(state(id)).resolves.toMatchObject({ balance: 3, expiring: 0, ledger: 3 });
    });

    it('does not let points past their date be spent, even before the daily expiry has run', async () => {
      const id = await account();
      await sut.grant({ accountId: id, amount: 10 }, ctx());
      await sut.grant({ accountId: id, amount: 5, expiresAt: new Date(Date.now() - HOUR).toISOString() }, ctx());
      await expect(sut.consume({ accountId: id, amount: 12 }, ctx())).rejects.toMatchObject({
        name: 'InsufficientCredits',
      });
      await expect(sut.consume({ accountId: id, amount: 8 }, ctx())).resolves.toMatchObject({ balance: 2 });
      const kinds = await db.current.dataSource.query(
        `SELECT kind, amount::int FROM credit_transactions WHERE account_id = $1 ORDER BY id`,
        [id],
      );
      expect(kinds).toEqual([
        { kind: 'GRANT', amount: 10 },
        { kind: 'GRANT', amount: 5 },
        { kind: 'EXPIRE', amount: -5 },
        { kind: 'CONSUME', amount: -8 },
      ]);
    });
  });

  describe('grant', () => {
    it('ends a grant given by calendar date at the next local midnight of the service time zone', async () => {
      const id = await account();
      const result = await sut.grant({ accountId: id, amount: 1, expiresOn: '2030-03-01' }, ctx());
      expect(result.expiresAt).toBe('2030-03-01T16:00:00.000Z');
      await expect(lots(id)).resolves.toEqual([{ remaining: 1 }]);
    });

    it('refuses expiresAt together with expiresOn', async () => {
      const id = await account();
      await expect(
        sut.grant({ accountId: id, amount: 1, expiresAt: '2030-01-01T00:00:00Z', expiresOn: '2030-01-01' }, ctx()),
      ).rejects.toMatchObject({ name: 'InvalidGrant' });
      await expect(state(id)).resolves.toMatchObject({ rows: 0 });
    });

    it('refuses a grant that would lift the balance above the cap, with BalanceLimit', async () => {
      const id = await account();
      await db.current.dataSource.query(`UPDATE credit_accounts SET balance = $2 WHERE id = $1`, [id, MAX_BALANCE - 1]);
      await expect(sut.grant({ accountId: id, amount: 2 }, ctx())).rejects.toMatchObject({ name: 'BalanceLimit' });
      await expect(sut.grant({ accountId: id, amount: 1 }, ctx())).resolves.toMatchObject({ balance: MAX_BALANCE });
    });
  });

  describe('refund', () => {
    async function consumed(amount: number) {
      const id = await account();
      await sut.grant({ accountId: id, amount: 20, expiresAt: new Date(Date.now() + HOUR).toISOString() }, ctx());
      const consume = await sut.consume({ accountId: id, amount }, ctx());
      return { id, transactionId: consume.transactionId };
    }

    it('gives back the whole consume by default, without an expiry date', async () => {
      const { id, transactionId } = await consumed(8);
      await expect(sut.refund({ accountId: id, transactionId }, ctx())).resolves.toMatchObject({
        kind: 'REFUND',
        amount: 8,
        balance: 20,
      });
      await expect(state(id)).resolves.toMatchObject({ balance: 20, expiring: 12, ledger: 20 });
    });

    it('refunds at most the consumed amount, and a consume only once', async () => {
      const { id, transactionId } = await consumed(8);
      await expect(sut.refund({ accountId: id, transactionId, amount: 9 }, ctx())).rejects.toMatchObject({
        name: 'RefundRejected',
        message: expect.stringContaining('exceeds the 8 points consumed'),
      });
      await sut.refund({ accountId: id, transactionId, amount: 3 }, ctx());
      await expect(sut.refund({ accountId: id, transactionId, amount: 3 }, ctx())).rejects.toMatchObject({
        name: 'RefundRejected',
        message: expect.stringContaining('already refunded'),
      });
      await expect(state(id)).resolves.toMatchObject({ balance: 15 });
    });

    it('replays a repeated refund key, and refuses the key for another transaction', async () => {
      const { id, transactionId } = await consumed(8);
      const first = await sut.refund({ accountId: id, transactionId, idempotencyKey: 'r1' }, ctx());
      await expect(sut.refund({ accountId: id, transactionId, idempotencyKey: 'r1' }, ctx())).resolves.toEqual({
        ...first,
        duplicate: true,
      });
      const other = await sut.consume({ accountId: id, amount: 8 }, ctx());
      await expect(
        sut.refund({ accountId: id, transactionId: other.transactionId, idempotencyKey: 'r1' }, ctx()),
      ).rejects.toMatchObject({ name: 'RefundRejected' });
    });

    it('refunds only a consume of the same account', async () => {
      const { transactionId } = await consumed(8);
      const other = await account();
      const [grant] = await db.current.dataSource.query(
        `SELECT id::text FROM credit_transactions WHERE kind = 'GRANT' LIMIT 1`,
      );
      await expect(sut.refund({ accountId: other, transactionId }, ctx())).rejects.toMatchObject({
        name: 'RefundRejected',
      });
      await expect(sut.refund({ accountId: other, transactionId: grant.id }, ctx())).rejects.toMatchObject({
        name: 'RefundRejected',
      });
      await expect(state(other)).resolves.toMatchObject({ rows: 0 });
    });
  });
});
