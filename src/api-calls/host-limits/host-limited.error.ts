import { RetryAfterError } from '../../tasks/retry-after.error';

/**
 * A call held back by its host's rate or concurrency limit: the job is asked to wait
 * `delayMs` in BullMQ (delayed, no worker slot held). It is not a failure of the call, so it
 * is marked to use no attempt (`skipsAttempt`), like the runner's wait through a database outage.
 */
export class HostLimitedError extends RetryAfterError {
  /** The wait is not an attempt of the call: the platform delays the job without counting it. */
  readonly skipsAttempt = true;

  constructor(
    readonly host: string,
    delayMs: number,
    readonly limit: 'rate' | 'concurrency',
  ) {
    super(delayMs, `Host ${host} is at its ${limit} limit; the call waits ${Math.round(delayMs)} ms in the queue`);
    Object.defineProperty(this, 'name', { value: 'HostLimitedError' });
  }
}
