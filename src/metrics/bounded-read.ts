/** What one time-boxed read gave: its value, or why there is none. */
export type ReadResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * A read that a scrape waits for at most `timeoutMs`. A read still running from an earlier
 * scrape is not started again (it reports itself as still pending): against a transport that
 * queues commands while it is offline, every scrape would otherwise add one more.
 */
export class BoundedRead<T> {
  private pending: Promise<T> | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly timeoutMs: number,
  ) {}

  async run(): Promise<ReadResult<T>> {
    if (this.pending) return { ok: false, reason: 'the previous read has not answered yet' };
    const work = this.read();
    this.pending = work;
    void work.then(
      () => this.settle(work),
      () => this.settle(work),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<ReadResult<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
    });
    try {
      return await Promise.race([
        work.then(
          (value): ReadResult<T> => ({ ok: true, value }),
          (error): ReadResult<T> => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
        ),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private settle(work: Promise<T>): void {
    if (this.pending === work) this.pending = null;
  }
}
