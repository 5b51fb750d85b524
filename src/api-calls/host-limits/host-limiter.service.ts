import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { TaskContext } from '../../tasks/task-definition';
import { ApiCallsEnvironment } from '../api-calls.environment';
import { HostLimitedError } from './host-limited.error';
import { HostLimits, limitFor } from './host-limits';
import { HostPermit, HostPermits } from './host-permits.service';

// A lease outlives the call's own timeout by this much, so only a dead worker's permit expires.
const LEASE_MARGIN_MS = 5_000;

/** Applies `API_CALLS_HOST_LIMITS` to one call: a permit to go ahead, or a {@link HostLimitedError}. */
@Injectable()
export class HostLimiter {
  private readonly logger = new Logger(HostLimiter.name);
  private readonly limits: HostLimits;
  private readonly slotWaitMs: number;

  constructor(
    config: AppConfig,
    private readonly permits: HostPermits,
  ) {
    const settings = config.section(ApiCallsEnvironment);
    this.limits = settings.API_CALLS_HOST_LIMITS ?? {};
    this.slotWaitMs = settings.API_CALLS_LIMIT_WAIT_MS;
  }

  /**
   * A permit for a call to `url`, or null when its host has no limit. Throws
   * {@link HostLimitedError} when the host is at its limit: the job then waits in the queue.
   * Only the first host of a call counts; redirects elsewhere are not limited.
   *
   * On the task's last attempt the wait happens here instead: a runner that counts the wait as
   * an attempt (one that does not honour `skipsAttempt`) would otherwise fail a task that was
   * only ever held back. With a runner that honours it, attempts do not grow and this never runs.
   */
  async enter(url: string, timeoutMs: number, ctx: TaskContext): Promise<HostPermit | null> {
    const match = limitFor(this.limits, new URL(url).hostname);
    if (!match) return null;
    for (;;) {
      const answer = await this.permits.acquire(match.key, match.limit, timeoutMs + LEASE_MARGIN_MS, this.slotWaitMs);
      if ('permit' in answer) return answer.permit;
      // Jitter spreads the waiting calls of one host so they do not all ask again at the same instant.
      const waitMs = Math.round(answer.waitMs * (1 + Math.random() * 0.2));
      const lastAttempt = ctx.attempt >= ctx.maxAttempts;
      this.logger.debug?.({
        msg: 'Call held back by its host limit',
        taskId: ctx.taskId,
        host: match.key,
        limit: answer.limit,
        waitMs,
        lastAttempt,
      });
      if (!lastAttempt) throw new HostLimitedError(match.key, waitMs, answer.limit);
      await sleep(waitMs, undefined, { signal: ctx.signal });
    }
  }

  async leave(permit: HostPermit | null): Promise<void> {
    if (permit) await this.permits.release(permit);
  }
}
