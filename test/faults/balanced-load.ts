import { randomBytes, randomUUID } from 'node:crypto';
import { LoadKind, safeJson, SubmitRecord } from './load';

/** A GET /tasks/:id?wait= as the client saw it. */
export interface PollRecord {
  at: number;
  latencyMs: number;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  error?: string;
}

export interface BalancedLoadOptions {
  baseUrl: string;
  apiKey: string;
  /** Submits per second over all submitters. */
  ratePerSecond: number;
  submitters: number;
  /** Loops that long-poll the state of accepted tasks that are not final yet. */
  pollers: number;
  accounts: string[];
  requestTimeoutMs?: number;
}

const FINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/**
 * The client of a deployment behind a load balancer: submits the fault suite's mix (sleep,
 * consume, e-mail), each POST with its own Idempotency-Key as a careful client sends it, and
 * long-polls the accepted tasks until they are final. It never retries: every request that got
 * no answer or a 5xx is a failure the balancer let through.
 */
export class BalancedLoad {
  readonly submits: SubmitRecord[] = [];
  readonly polls: PollRecord[] = [];
  /** Submits answered 200: nginx sent the POST again and the key found the task the first one made. */
  replayed = 0;
  private readonly open = new Set<string>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly tag = randomBytes(3).toString('hex');
  private sequence = 0;

  constructor(private readonly options: BalancedLoadOptions) {}

  start(): void {
    this.running = true;
    const intervalMs = (1000 * this.options.submitters) / this.options.ratePerSecond;
    this.loops = [
      ...Array.from({ length: this.options.submitters }, (_, i) =>
        this.every(intervalMs, (i * intervalMs) / this.options.submitters, () => this.submitOne()),
      ),
      ...Array.from({ length: this.options.pollers }, () => this.every(0, 0, () => this.pollOne())),
    ];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Requests that failed as the client saw them: no answer, or a 5xx. */
  failures(): { at: number; status: number; what: string; error?: string }[] {
    return [
      ...this.submits.map((r) => ({ ...r, what: 'POST /tasks' })),
      ...this.polls.map((r) => ({ ...r, what: 'GET /tasks/:id' })),
    ].filter((r) => r.status === 0 || r.status >= 500);
  }

  private async every(intervalMs: number, offsetMs: number, action: () => Promise<void>): Promise<void> {
    await sleep(offsetMs);
    while (this.running) {
      const began = Date.now();
      await action();
      await sleep(Math.max(intervalMs > 0 ? 0 : 20, intervalMs - (Date.now() - began)));
    }
  }

  private async submitOne(): Promise<void> {
    const n = this.sequence++;
    const roll = n % 10;
    const kind: LoadKind = roll < 5 ? 'sleep' : roll < 8 ? 'consume' : 'email';
    const subject = kind === 'email' ? `balanced ${this.tag} #${n}` : undefined;
    const [name, args] =
      kind === 'sleep'
        ? ['tasks.system.sleep', { ms: 20 + Math.floor(Math.random() * 481) }]
        : kind === 'consume'
          ? [
              'tasks.credits.consume',
              { accountId: this.options.accounts[n % this.options.accounts.length], amount: 1 + (n % 3) },
            ]
          : [
              'tasks.email.send_email',
              { to: ['load@example.com'], subject, text: `Message ${n} of the balanced load` },
            ];
    const at = Date.now();
    const answer = await this.send(
      'POST',
      '/tasks',
      { 'idempotency-key': randomUUID() },
      JSON.stringify({ name, args }),
    );
    // A 200 is the answer to a submit nginx sent twice: the task of the first, found by its key.
    if (answer.status === 200 && answer.body?.id) this.replayed++;
    const ok = (answer.status === 202 || answer.status === 200) && answer.body?.id;
    if (ok) this.open.add(answer.body.id);
    this.submits.push({
      kind,
      at,
      latencyMs: Date.now() - at,
      // Judged as what it is: an acknowledged submit.
      status: ok ? 202 : answer.status,
      id: ok ? answer.body.id : undefined,
      subject,
      retryAfter: answer.retryAfter,
      error: answer.error,
    });
  }

  private async pollOne(): Promise<void> {
    const ids = [...this.open];
    if (ids.length === 0) return;
    const id = ids[Math.floor(Math.random() * ids.length)];
    const at = Date.now();
    const answer = await this.send('GET', `/tasks/${id}?wait=2000`);
    if (FINAL.has(answer.body?.state)) this.open.delete(id);
    this.polls.push({ at, latencyMs: Date.now() - at, status: answer.status, error: answer.error });
  }

  private async send(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<{ status: number; body?: any; retryAfter?: string | null; error?: string }> {
    try {
      const response = await fetch(`${this.options.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: safeJson(text),
        retryAfter: response.headers.get('retry-after'),
        error: response.status >= 300 ? `${method} ${path}: ${text.slice(0, 300)}` : undefined,
      };
    } catch (error) {
      return { status: 0, error: `${method} ${path}: ${String(error.cause ?? error)}` };
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
