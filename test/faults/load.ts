import { randomBytes } from 'node:crypto';
import { ApiClient } from '../support/api-client';

export type LoadKind = 'sleep' | 'consume' | 'email';

/** One submit attempt as the client saw it. */
export interface SubmitRecord {
  kind: LoadKind;
  /** Epoch ms when the request was sent. */
  at: number;
  latencyMs: number;
  /** HTTP status, or 0 when no answer came (connection refused or reset, client timeout). */
  status: number;
  /** The task id when the answer was 202. */
  id?: string;
  /** For e-mails: the subject that identifies the message at the sink. */
  subject?: string;
  retryAfter?: string | null;
  error?: string;
}

export interface LoadOptions {
  /** Submits per second over all submitters. */
  ratePerSecond: number;
  /** At most this many requests in flight (a bounded client). */
  concurrency: number;
  accounts: string[];
  /** Who receives the e-mails (the sink accepts any address). */
  recipient?: string;
  requestTimeoutMs?: number;
}

/**
 * A bounded client loop: `concurrency` submitters send a mix of `tasks.system.sleep` (20–500 ms),
 * `tasks.credits.consume` (1–3 points on one of a few accounts) and `tasks.email.send_email`
 * (one message with a unique subject) over HTTP at a steady rate, and record every answer.
 */
export class LoadGenerator {
  readonly records: SubmitRecord[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly tag = randomBytes(3).toString('hex');
  private sequence = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly options: LoadOptions,
  ) {}

  start(): void {
    this.running = true;
    const intervalMs = (1000 * this.options.concurrency) / this.options.ratePerSecond;
    this.loops = Array.from({ length: this.options.concurrency }, (_, i) => this.loop(intervalMs, i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  accepted(): SubmitRecord[] {
    return this.records.filter((r) => r.status === 202 && r.id);
  }

  private async loop(intervalMs: number, offset: number): Promise<void> {
    await sleep((offset * intervalMs) / this.options.concurrency);
    while (this.running) {
      const began = Date.now();
      await this.submitOne();
      await sleep(Math.max(0, intervalMs - (Date.now() - began)));
    }
  }

  private async submitOne(): Promise<void> {
    const n = this.sequence++;
    const roll = n % 10;
    const kind: LoadKind = roll < 5 ? 'sleep' : roll < 8 ? 'consume' : 'email';
    const subject = kind === 'email' ? `fault ${this.tag} #${n}` : undefined;
    const args =
      kind === 'sleep'
        ? { ms: 20 + Math.floor(Math.random() * 481) }
        : kind === 'consume'
          ? { accountId: this.options.accounts[n % this.options.accounts.length], amount: 1 + (n % 3) }
          : { to: [this.options.recipient ?? 'load@example.com'], subject, text: `Message ${n} of the fault load` };
    const name =
      kind === 'sleep' ? 'tasks.system.sleep' : kind === 'consume' ? 'tasks.credits.consume' : 'tasks.email.send_email';
    const at = Date.now();
    try {
      const response = await fetch(`${this.client.baseUrl}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.client.apiKey}` },
        body: JSON.stringify({ name, args }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
      });
      const text = await response.text();
      const body = safeJson(text);
      this.records.push({
        kind,
        at,
        latencyMs: Date.now() - at,
        status: response.status,
        id: response.status === 202 ? body?.id : undefined,
        subject,
        retryAfter: response.headers.get('retry-after'),
        error: response.status >= 400 ? text.slice(0, 300) : undefined,
      });
    } catch (error) {
      this.records.push({
        kind,
        at,
        latencyMs: Date.now() - at,
        status: 0,
        subject,
        error: String(error.cause ?? error),
      });
    }
  }
}

/** The body as JSON, or undefined when it is not (an HTML error page from a proxy, a cut-off body). */
export function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
