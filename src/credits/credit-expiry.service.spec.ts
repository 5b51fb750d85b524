import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { useSpecDatabase } from '../../test/support/spec-database';
import { specTaskContext } from '../../test/support/spec-task-context';
import { AppConfig } from '../config/app-config';
import { CreditAccess } from './credit-access.service';
import { CreditConsumeBatcher } from './credit-consume.batcher';
import { CreditExpiryService } from './credit-expiry.service';
import { CreditLedger } from './credit-ledger.service';
import { CreditsService } from './credits.service';

const OWNER = randomUUID();
const AS_OF = '2030-06-01T00:00:00.000Z';

describe('CreditExpiryService (PostgreSQL)', () => {
  const db = useSpecDatabase();
  let sut: CreditExpiryService;
  let credits: CreditsService;
  const system = () => specTaskContext({ owner: null });

  beforeEach(async () => {
    await db.current.empty('credit_grant_lots', 'credit_transactions', 'credit_accounts', 'api_keys');
    const { dataSource } = db.current;
    const ledger = new CreditLedger(dataSource);
    const access = new CreditAccess(dataSource);
    sut = new CreditExpiryService(dataSource, ledger, access);
    credits = new CreditsService(new CreditConsumeBatcher(dataSource), ledger, access, AppConfig.fromEnv({}));
  });

  async function accountWith(grants: { amount: number; expiresAt?: string }[]): Promise<string> {
    const id = randomUUID();
    await db.current.dataSource.query(`INSERT INTO credit_accounts (id, owner) VALUES ($1, $2)`, [id, OWNER]);
    for (const grant of grants) await credits.grant({ accountId: id, ...grant }, system());
    return id;
  }

  const account = async (id: string) =>
    (
      await db.current.dataSource.query(
        `SELECT balance::int, expiring_balance::int AS expiring FROM credit_accounts WHERE id = $1`,
        [id],
      )
    )[0];

  it('expires what is left of every grant due by asOf, one EXPIRE row per grant, and keeps later grants', async () => {
    const id = await accountWith([
      { amount: 10 },
      { amount: 5, expiresAt: '2030-05-01T00:00:00Z' },
      { amount: 7, expiresAt: '2030-05-31T23:59:59Z' },
      { amount: 4, expiresAt: '2030-07-01T00:00:00Z' },
    ]);
    // The consume spends the earliest lot first: 3 of the 5 points due on 2030-05-01.
    await credits.consume({ accountId: id, amount: 3 }, system());
    await expect(sut.expire({ asOf: AS_OF }, system())).resolves.toEqual({
      asOf: AS_OF,
      accounts: 1,
      grants: 2,
      points: 9,
    });
    await expect(account(id)).resolves.toEqual({ balance: 14, expiring: 4 });
    const expired = await db.current.dataSource.query(
      `SELECT amount::int, idempotency_key FROM credit_transactions WHERE kind = 'EXPIRE' ORDER BY id`,
    );
    expect(expired).toEqual([
      { amount: -2, idempotency_key: expect.stringMatching(/^sys:expire:\d+$/) },
      { amount: -7, idempotency_key: expect.stringMatching(/^sys:expire:\d+$/) },
    ]);
  });

  it('expires a grant once: a second run finds nothing due', async () => {
    await accountWith([{ amount: 5, expiresAt: '2030-05-01T00:00:00Z' }]);
    await sut.expire({ asOf: AS_OF }, system());
    await expect(sut.expire({ asOf: AS_OF }, system())).resolves.toMatchObject({ accounts: 0, grants: 0, points: 0 });
  });

  it('limits a run to one account when accountId is given', async () => {
    const one = await accountWith([{ amount: 5, expiresAt: '2030-05-01T00:00:00Z' }]);
    const other = await accountWith([{ amount: 6, expiresAt: '2030-05-01T00:00:00Z' }]);
    await expect(sut.expire({ asOf: AS_OF, accountId: one }, system())).resolves.toMatchObject({ points: 5 });
    await expect(account(other)).resolves.toEqual({ balance: 6, expiring: 6 });
  });

  it('lets only the service itself or an admin key run expiry', async () => {
    const id = await accountWith([{ amount: 5, expiresAt: '2030-05-01T00:00:00Z' }]);
    await expect(sut.expire({ asOf: AS_OF }, specTaskContext({ owner: OWNER }))).rejects.toMatchObject({
      name: 'Forbidden',
    });
    await expect(account(id)).resolves.toEqual({ balance: 5, expiring: 5 });
    const [admin] = await db.current.dataSource.query(
      `INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ('admin', 'admin', repeat('a', 64), 'ts_a') RETURNING id`,
    );
    // An admin's run may not look into the future (the scheduler's, owner null, above, may).
    await expect(sut.expire({ asOf: AS_OF }, specTaskContext({ owner: admin.id }))).rejects.toMatchObject({
      name: 'AsOfInFuture',
    });
    await expect(account(id)).resolves.toEqual({ balance: 5, expiring: 5 });
    const lapsed = await accountWith([{ amount: 5, expiresAt: '2020-05-01T00:00:00Z' }]);
    await expect(
      sut.expire({ asOf: '2021-01-01T00:00:00.000Z', accountId: lapsed }, specTaskContext({ owner: admin.id })),
    ).resolves.toMatchObject({ points: 5 });
  });

  it('skips an account it cannot expire, expires the others, and then fails the run naming that account', async () => {
    const healthy = await accountWith([{ amount: 2, expiresAt: '2030-05-01T00:00:00Z' }]);
    const broken = await accountWith([{ amount: 3, expiresAt: '2030-05-01T00:00:00Z' }]);
    // Its lots say 3 points are due; its balance says none of it expires.
    await db.current.dataSource.query(`UPDATE credit_accounts SET expiring_balance = 0 WHERE id = $1`, [broken]);
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await expect(sut.expire({ asOf: AS_OF }, system())).rejects.toThrow(
      `Expired 1 grants, but 1 account(s) failed: ${broken} (its lots and expiring balance disagree)`,
    );
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ accountId: broken }));
    logged.mockRestore();
    await expect(account(healthy)).resolves.toEqual({ balance: 0, expiring: 0 });
    await expect(account(broken)).resolves.toEqual({ balance: 3, expiring: 0 });
  });

  it('reports progress and a result that adds up to what the ledger shows', async () => {
    const ids = [
      await accountWith([{ amount: 1, expiresAt: '2030-05-01T00:00:00Z' }]),
      await accountWith([{ amount: 2, expiresAt: '2030-05-02T00:00:00Z' }]),
    ];
    const ctx = system();
    const result = await sut.expire({ asOf: AS_OF }, ctx);
    expect(result).toMatchObject({ accounts: 2, grants: 2, points: 3 });
    expect(ctx.progressReports).toContainEqual({ accounts: 2, grants: 2, points: 3 });
    for (const id of ids) await expect(account(id)).resolves.toEqual({ balance: 0, expiring: 0 });
  });
});
