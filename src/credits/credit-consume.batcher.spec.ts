import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../test/support/spec-database';
import { ConsumeRequest, CreditConsumeBatcher } from './credit-consume.batcher';

const OWNER = randomUUID();

describe('CreditConsumeBatcher (PostgreSQL)', () => {
  const db = useSpecDatabase();
  let sut: CreditConsumeBatcher;

  beforeEach(async () => {
    await db.current.empty('credit_grant_lots', 'credit_transactions', 'credit_accounts');
    sut = new CreditConsumeBatcher(db.current.dataSource);
  });

  async function account(balance: number, options: { owner?: string; expiring?: number } = {}): Promise<string> {
    const id = randomUUID();
    await db.current.dataSource.query(
      `INSERT INTO credit_accounts (id, owner, balance, expiring_balance) VALUES ($1, $2, $3, $4)`,
      [id, options.owner ?? OWNER, balance, options.expiring ?? 0],
    );
    return id;
  }

  const request = (accountId: string, amount: number, extra: Partial<ConsumeRequest> = {}): ConsumeRequest => ({
    accountId,
    key: `key-${randomUUID()}`,
    amount,
    scope: OWNER,
    taskId: randomUUID(),
    reference: null,
    reason: null,
    ...extra,
  });

  async function balanceOf(id: string): Promise<number> {
    const [row] = await db.current.dataSource.query(`SELECT balance FROM credit_accounts WHERE id = $1`, [id]);
    return Number(row.balance);
  }

  async function ledgerOf(id: string): Promise<{ kind: string; amount: string; balance_after: string }[]> {
    return db.current.dataSource.query(
      `SELECT kind, amount, balance_after FROM credit_transactions WHERE account_id = $1 ORDER BY id`,
      [id],
    );
  }

  it('applies the consumes of one turn in one statement, in arrival order, with a running balance', async () => {
    const id = await account(10);
    const query = jest.spyOn(db.current.dataSource, 'query');
    const rows = await Promise.all([sut.consume(request(id, 3)), sut.consume(request(id, 4))]);
    expect(query).toHaveBeenCalledTimes(1);
    query.mockRestore();
    expect(rows.map((r) => [r?.kind, Number(r?.amount), Number(r?.balance_after)])).toEqual([
      ['CONSUME', -3, 7],
      ['CONSUME', -4, 3],
    ]);
    await expect(balanceOf(id)).resolves.toBe(3);
  });

  it('leaves a consume that would overdraw to the locked path, and charges the ones before it', async () => {
    const id = await account(10);
    const [first, overdraw] = await Promise.all([sut.consume(request(id, 6)), sut.consume(request(id, 5))]);
    expect(first).not.toBeNull();
    expect(overdraw).toBeNull();
    await expect(balanceOf(id)).resolves.toBe(4);
    await expect(ledgerOf(id)).resolves.toEqual([{ kind: 'CONSUME', amount: '-6', balance_after: '4' }]);
  });

  it('keeps the accounts of one batch apart: a short balance on one does not hold up another', async () => {
    const poor = await account(1);
    const rich = await account(100);
    const [short, charged] = await Promise.all([sut.consume(request(poor, 2)), sut.consume(request(rich, 2))]);
    expect(short).toBeNull();
    expect(charged?.account_id).toBe(rich);
    await expect(balanceOf(poor)).resolves.toBe(1);
    await expect(balanceOf(rich)).resolves.toBe(98);
  });

  it.each([
    ['an unknown account', async () => ({ id: randomUUID() })],
    ['an account outside the task scope', async () => ({ id: await account(10, { owner: randomUUID() }) })],
    ['an account holding expiring points', async () => ({ id: await account(10, { expiring: 5 }) })],
  ])('writes nothing for %s (the locked path decides and explains)', async (_case, make) => {
    const { id } = await make();
    await expect(sut.consume(request(id, 1))).resolves.toBeNull();
    const [{ count }] = await db.current.dataSource.query(`SELECT count(*)::int AS count FROM credit_transactions`);
    expect(count).toBe(0);
  });

  it('charges any account when the scope is null (system and admin tasks)', async () => {
    const id = await account(10, { owner: randomUUID() });
    await expect(sut.consume(request(id, 1, { scope: null }))).resolves.toMatchObject({ balance_after: '9' });
  });

  it('never applies a key the account has already seen, nor its twin in the same batch', async () => {
    const id = await account(10);
    const first = await sut.consume(request(id, 2, { key: 'order-1' }));
    expect(first).not.toBeNull();
    await expect(sut.consume(request(id, 2, { key: 'order-1' }))).resolves.toBeNull();
    const [once, twin] = await Promise.all([
      sut.consume(request(id, 1, { key: 'order-2' })),
      sut.consume(request(id, 1, { key: 'order-2' })),
    ]);
    expect(once).not.toBeNull();
    expect(twin).toBeNull();
    await expect(balanceOf(id)).resolves.toBe(7);
  });

  it('resolves every consume of a failed statement to null and applies none of them', async () => {
    const id = await account(10);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // A reference longer than the column fails the whole INSERT, and with it the batch's debit.
    const rows = await Promise.all([
      sut.consume(request(id, 1)),
      sut.consume(request(id, 1, { reference: 'r'.repeat(201) })),
    ]);
    expect(rows).toEqual([null, null]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('fell back to one transaction each'));
    warn.mockRestore();
    await expect(balanceOf(id)).resolves.toBe(10);
    await expect(ledgerOf(id)).resolves.toEqual([]);
  });

  it('keeps the ledger equal to the balance under many concurrent batches', async () => {
    const id = await account(50);
    const rows = await Promise.all(Array.from({ length: 80 }, () => sut.consume(request(id, 1))));
    const applied = rows.filter((r) => r !== null).length;
    expect(applied).toBe(50);
    await expect(balanceOf(id)).resolves.toBe(0);
    const [{ sum }] = await db.current.dataSource.query(
      `SELECT COALESCE(SUM(amount), 0)::int AS sum FROM credit_transactions WHERE account_id = $1`,
      [id],
    );
    expect(sum).toBe(-50);
  });
});
