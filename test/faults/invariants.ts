import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ledgerViolations } from '../credits-helpers';
import { SmtpSink } from '../support/smtp-sink';
import { SubmitRecord } from './load';

const FINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];
// The one FAILURE a handler of the load chooses: a consume on an account that ran dry.
const CHOSEN_FAILURES = new Set(['InsufficientCredits']);

export interface FaultWindow {
  start: number;
  end: number;
}

export interface Verdict {
  /** Submit attempts, whatever the answer. */
  submitted: number;
  accepted: number;
  success: number;
  /** FAILUREs the handler chose (insufficient credits). */
  failure: number;
  /** Acknowledged (202) but never recorded, or not final by the deadline, or failed for another reason. */
  lost: number;
  /** Effects applied more than once: ledger entries or SMTP messages per task above one. */
  duplicated: number;
  /** E-mails sent again because a SIGKILL cut the attempt between the SMTP accept and its record (counted apart). */
  resentAfterKill: number;
  /** 503 answers (allowed only while the database is down, with Retry-After). */
  unavailable: number;
  /** Requests that got no answer (refused while the only API process restarts, or timed out). */
  unanswered: number;
  maxLatencyMs: number;
  p99LatencyMs: number;
  /** From the end of the fault until every task accepted before it was final. */
  recoveryMs: number;
  /** Every broken invariant, in words; empty when the scenario passed. */
  problems: string[];
}

export interface VerdictRules {
  /** 503 with Retry-After is the specified answer to a submit while PostgreSQL is down. */
  allow503: boolean;
  /** Unanswered requests are expected only while the single API process restarts. */
  allowUnanswered: boolean;
  /**
   * True when a SIGKILL cut an attempt of task `id` (it started on a process that was killed
   * and never logged its end there). An e-mail of such a task may reach the SMTP server twice:
   * the documented limit of at-least-once delivery to a system we cannot roll back.
   */
  cutByKill?: (id: string) => boolean;
  settleTimeoutMs: number;
}

interface RunRow {
  id: string;
  name: string;
  state: string;
  error: { type?: string; message?: string } | null;
  created_at: Date;
  finished_at: Date | null;
}

/** Waits until every acknowledged task is final (or the deadline passes), then checks each invariant. */
export async function judge(
  db: Pool,
  smtp: SmtpSink,
  records: SubmitRecord[],
  window: FaultWindow,
  rules: VerdictRules,
): Promise<Verdict> {
  const accepted = records.filter((r) => r.status === 202 && r.id);
  const ids = accepted.map((r) => r.id!);
  const rows = await settle(db, ids, rules.settleTimeoutMs);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const problems: string[] = [];
  let success = 0;
  let failure = 0;
  for (const record of accepted) {
    const row = byId.get(record.id!);
    if (!row) problems.push(`${record.kind} ${record.id}: acknowledged but has no record`);
    else if (!FINAL.includes(row.state)) problems.push(`${record.kind} ${record.id}: stuck in ${row.state}`);
    else if (row.state === 'SUCCESS') success++;
    else if (row.state === 'FAILURE' && record.kind === 'consume' && CHOSEN_FAILURES.has(row.error?.type ?? ''))
      failure++;
    else problems.push(`${record.kind} ${record.id}: ${row.state} ${row.error?.type}: ${row.error?.message}`);
  }
  const lost = accepted.length - success - failure;

  const { duplicated, resentAfterKill } = await duplicatedEffects(db, smtp, accepted, byId, problems, rules.cutByKill);
  for (const v of await ledgerViolations(poolAsDataSource(db))) problems.push(`ledger: ${v}`);

  const fiveHundreds = records.filter((r) => r.status >= 500);
  const unavailable = fiveHundreds.filter((r) => r.status === 503);
  summarise(
    problems,
    'submits answered an unspecified 5xx',
    fiveHundreds.filter((r) => r.status !== 503 || !rules.allow503),
  );
  summarise(
    problems,
    '503s came without Retry-After',
    unavailable.filter((r) => !r.retryAfter),
  );
  const unanswered = records.filter((r) => r.status === 0);
  if (!rules.allowUnanswered) summarise(problems, 'submits got no answer', unanswered);
  summarise(
    problems,
    'submits answered 4xx',
    records.filter((r) => r.status > 0 && r.status < 500 && r.status !== 202),
  );

  const during = records
    .filter((r) => r.at >= window.start && r.at <= window.end && r.status !== 0)
    .map((r) => r.latencyMs)
    .sort((a, b) => a - b);
  const finishedBeforeEnd = rows
    .filter((r) => r.created_at.getTime() <= window.end && r.finished_at)
    .map((r) => r.finished_at!.getTime());
  return {
    submitted: records.length,
    accepted: accepted.length,
    success,
    failure,
    lost,
    duplicated,
    resentAfterKill,
    unavailable: unavailable.length,
    unanswered: unanswered.length,
    maxLatencyMs: during.at(-1) ?? 0,
    p99LatencyMs: during[Math.min(during.length - 1, Math.floor(0.99 * during.length))] ?? 0,
    recoveryMs: Math.max(0, Math.max(window.end, ...finishedBeforeEnd) - window.end),
    problems,
  };
}

/** One line per kind of bad answer, with its count and first example, rather than one per request. */
function summarise(problems: string[], what: string, bad: SubmitRecord[]): void {
  if (bad.length === 0) return;
  const first = bad[0];
  problems.push(`${bad.length} ${what}; first: ${first.status || 'no answer'} ${first.error ?? ''}`.trim());
}

async function settle(db: Pool, ids: string[], timeoutMs: number): Promise<RunRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let rows: RunRow[] = [];
    try {
      ({ rows } = await db.query<RunRow>(
        `SELECT id, name, state, error, created_at, finished_at FROM task_runs WHERE id = ANY($1::uuid[])`,
        [ids],
      ));
    } catch {
      // The database may still be starting after the fault: ask again.
    }
    const done = rows.length === ids.length && rows.every((r) => FINAL.includes(r.state));
    if (done || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Counts effects above one per task; a successful task without its effect is a problem too. */
async function duplicatedEffects(
  db: Pool,
  smtp: SmtpSink,
  accepted: SubmitRecord[],
  byId: Map<string, RunRow>,
  problems: string[],
  cutByKill: (id: string) => boolean = () => false,
): Promise<{ duplicated: number; resentAfterKill: number }> {
  let duplicated = 0;
  let resentAfterKill = 0;
  const consumes = accepted.filter((r) => r.kind === 'consume').map((r) => r.id!);
  const { rows } = await db.query<{ task_id: string; n: number }>(
    `SELECT task_id, count(*)::int AS n FROM credit_transactions
     WHERE kind = 'CONSUME' AND task_id = ANY($1::uuid[]) GROUP BY task_id`,
    [consumes],
  );
  const entries = new Map(rows.map((r) => [r.task_id, r.n]));
  for (const id of consumes) {
    const n = entries.get(id) ?? 0;
    const expected = byId.get(id)?.state === 'SUCCESS' ? 1 : 0;
    if (n > 1) duplicated += n - 1;
    if (n !== expected) problems.push(`consume ${id}: ${n} ledger entries, ${expected} expected`);
  }
  const messages = new Map<string, number>();
  for (const m of smtp.messages) {
    const subject = /^Subject: (.*)$/im.exec(m.raw.toString('utf8'))?.[1]?.trim() ?? '';
    messages.set(subject, (messages.get(subject) ?? 0) + 1);
  }
  for (const record of accepted.filter((r) => r.kind === 'email')) {
    const n = messages.get(record.subject!) ?? 0;
    const expected = byId.get(record.id!)?.state === 'SUCCESS' ? 1 : 0;
    if (n > 1 && expected === 1 && cutByKill(record.id!)) {
      resentAfterKill += n - 1;
      continue;
    }
    if (n > 1) duplicated += n - 1;
    if (n !== expected) problems.push(`email ${record.id}: ${n} SMTP messages, ${expected} expected`);
  }
  return { duplicated, resentAfterKill };
}

/** `ledgerViolations` asks a TypeORM DataSource; a pg pool answers the same queries. */
function poolAsDataSource(db: Pool): DataSource {
  return { query: async (sql: string, params?: unknown[]) => (await db.query(sql, params)).rows } as DataSource;
}
