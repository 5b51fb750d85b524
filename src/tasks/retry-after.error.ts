/**
 * Thrown by a handler to ask for its next attempt after a specific delay (an HTTP 429/503
 * `Retry-After`, a provider's maintenance window). The attempt counts like any failure, but
 * instead of the task's exponential backoff the job waits `delayMs` in BullMQ (delayed, not
 * holding a worker slot), and the record shows `RETRY` with `runAt` at the planned time.
 * On the last attempt it fails the task like any other error.
 */
export class RetryAfterError extends Error {
  override readonly name = 'RetryAfterError';
  /**
   * True when the wait is no failure of the task (a host's rate limit held the call back): the
   * job is delayed without using an attempt, as through a database outage.
   */
  readonly skipsAttempt: boolean = false;

  constructor(
    /** How long to wait before the next attempt, in ms (at least 0). */
    readonly delayMs: number,
    message = `Retry requested in ${Math.round(delayMs)} ms`,
  ) {
    super(message);
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError('RetryAfterError needs a delay of 0 ms or more');
  }
}
