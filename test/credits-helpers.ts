import { DataSource } from 'typeorm';
import { ApiClient } from './support/api-client';

const FINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];

/** Polls task_runs until every task is final; returns their records. */
export async function waitForFinal(
  db: DataSource,
  ids: string[],
  timeoutMs = 60_000,
): Promise<{ id: string; state: string; result: any; error: any; attempts: number }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.query(`SELECT id, state, result, error, attempts FROM task_runs WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
    if (rows.length === ids.length && rows.every((r: { state: string }) => FINAL.includes(r.state))) return rows;
    if (Date.now() > deadline) {
      const open = rows.filter((r: { state: string }) => !FINAL.includes(r.state)).length;
      throw new Error(`${open + ids.length - rows.length} of ${ids.length} tasks are not final after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Every invariant of the ledger, checked in SQL; returns the violations (empty when sound):
 * balance = SUM(ledger), balance ≥ 0, each row's balance_after is the running sum, the
 * expiring balance equals what is left in the lots.
 */
export async function ledgerViolations(db: DataSource, accountIds?: string[]): Promise<string[]> {
  const filter = accountIds ? 'WHERE a.id = ANY($1::uuid[])' : '';
  const params = accountIds ? [accountIds] : [];
  const sums = await db.query(
    `SELECT a.id, a.balance, a.expiring_balance,
            COALESCE((SELECT SUM(amount) FROM credit_transactions t WHERE t.account_id = a.id), 0) AS ledger,
            COALESCE((SELECT SUM(remaining) FROM credit_grant_lots l WHERE l.account_id = a.id), 0) AS lots
     FROM credit_accounts a ${filter}`,
    params,
  );
  const problems: string[] = [];
  for (const s of sums) {
    if (String(s.balance) !== String(s.ledger))
      problems.push(`${s.id}: balance ${s.balance} != ledger sum ${s.ledger}`);
    if (Number(s.balance) < 0) problems.push(`${s.id}: negative balance ${s.balance}`);
    if (String(s.expiring_balance) !== String(s.lots))
      problems.push(`${s.id}: expiring ${s.expiring_balance} != lots ${s.lots}`);
  }
  const chain = await db.query(
    `SELECT id, account_id, balance_after, running FROM (
       SELECT t.id, t.account_id, t.balance_after, SUM(t.amount) OVER (PARTITION BY t.account_id ORDER BY t.id) AS running
       FROM credit_transactions t JOIN credit_accounts a ON a.id = t.account_id ${filter}) x
     WHERE balance_after <> running LIMIT 5`,
    params,
  );
  for (const c of chain)
    problems.push(`transaction ${c.id}: balance_after ${c.balance_after} != running sum ${c.running}`);
  return problems;
}

export async function createAccount(api: ApiClient, body: Record<string, unknown> = {}): Promise<any> {
  const response = await api.post('/credits/accounts', body);
  if (response.status !== 201)
    throw new Error(`Create account gave ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function balanceOf(api: ApiClient, id: string): Promise<number> {
  const response = await api.get(`/credits/accounts/${id}`);
  if (response.status !== 200) throw new Error(`Get account gave ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.balance;
}
