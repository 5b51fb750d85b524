import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
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
   */
  async enter(url: string, timeoutMs: number, taskId: string): Promise<HostPermit | null> {
    const match = limitFor(this.limits, new URL(url).hostname);
    if (!match) return null;
    const answer = await this.permits.acquire(match.key, match.limit, timeoutMs + LEASE_MARGIN_MS, this.slotWaitMs);
    if ('permit' in answer) return answer.permit;
    // Jitter spreads the waiting calls of one host so they do not all ask again at the same instant.
    const waitMs = Math.round(answer.waitMs * (1 + Math.random() * 0.2));
    this.logger.debug?.({
      msg: 'Call held back by its host limit',
      taskId,
      host: match.key,
      limit: answer.limit,
      waitMs,
    });
    throw new HostLimitedError(match.key, waitMs, answer.limit);
  }

  async leave(permit: HostPermit | null): Promise<void> {
    if (permit) await this.permits.release(permit);
  }
}
