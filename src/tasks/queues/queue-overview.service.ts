import { Injectable, Logger } from '@nestjs/common';
import { Job, JobType, Queue } from 'bullmq';
import { TaskControlService } from '../run/task-control.service';
import { TaskQueues } from './task-queues.service';

/** The job states an operator cares about, as BullMQ names them. */
export const COUNTED_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type CountedState = (typeof COUNTED_STATES)[number];

/** Job states as the transport names them, for {@link QueueOverviewService.jobCounts}. */
export type TransportJobState =
  'waiting' | 'prioritized' | 'delayed' | 'active' | 'waiting-children' | 'completed' | 'failed';

/** One queue as an operator sees it. */
export interface QueueOverview {
  name: string;
  paused: boolean;
  counts: Record<CountedState, number>;
  /** Seconds the oldest runnable job has waited; 0 when nothing waits (what an autoscaler scales on). */
  oldestWaitingSeconds: number;
}

const PURGE_PAGE = 500;
/**
 * BullMQ 6 dropped `paused` from its types, but its PostgreSQL backend still reports a paused
 * queue's waiting jobs under that name; asking for both covers either transport.
 */
const PAUSED = 'paused' as JobType;

/**
 * The platform's view of its queues in the transport: counts per state, pause/resume and
 * purge. Operations and statistics use this instead of BullMQ's `Queue`.
 */
@Injectable()
export class QueueOverviewService {
  private readonly logger = new Logger(QueueOverviewService.name);

  constructor(
    private readonly queues: TaskQueues,
    private readonly control: TaskControlService,
  ) {}

  /** Every queue this deployment knows. */
  get names(): string[] {
    return this.queues.names;
  }

  /** Counts, paused flag and age of the oldest waiting job of one queue (404 for an unknown name). */
  async overview(name: string): Promise<QueueOverview> {
    const queue = this.queues.get(name);
    const [raw, paused, oldest] = await Promise.all([
      queue.getJobCounts('wait', PAUSED, 'prioritized', 'delayed', 'active', 'completed', 'failed'),
      queue.isPaused(),
      this.oldestWaiting(queue),
    ]);
    const counts = {
      // A paused queue's jobs are waiting jobs as far as an operator is concerned.
      waiting: (raw.wait ?? raw.waiting ?? 0) + (raw[PAUSED] ?? 0),
      prioritized: raw.prioritized ?? 0,
      delayed: raw.delayed ?? 0,
      active: raw.active ?? 0,
      completed: raw.completed ?? 0,
      failed: raw.failed ?? 0,
    };
    const oldestWaitingSeconds = oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000);
    return { name, paused, counts, oldestWaitingSeconds: Math.round(oldestWaitingSeconds * 10) / 10 };
  }

  /** {@link overview} of every queue. */
  overviewAll(): Promise<QueueOverview[]> {
    return Promise.all(this.queues.names.map((name) => this.overview(name)));
  }

  /** Raw job counts of every queue for the given states, keyed by queue then state. */
  async jobCounts(states: readonly TransportJobState[]): Promise<Record<string, Record<string, number>>> {
    const counts: Record<string, Record<string, number>> = {};
    for (const queue of this.queues.all()) counts[queue.name] = await queue.getJobCounts(...states);
    return counts;
  }

  /** Workers finish what they hold but start nothing new on this queue, on every process. */
  async pause(name: string): Promise<QueueOverview> {
    await this.queues.get(name).pause();
    this.logger.log({ msg: 'Queue paused', queue: name });
    return this.overview(name);
  }

  /** Lets workers start jobs of this queue again. */
  async resume(name: string): Promise<QueueOverview> {
    await this.queues.get(name).resume();
    this.logger.log({ msg: 'Queue resumed', queue: name });
    return this.overview(name);
  }

  /**
   * Celery's `control purge` for one queue: removes waiting, prioritized and delayed jobs (retries
   * waiting on backoff included) and marks their records REVOKED. Active jobs are left to finish;
   * a job a worker picks up meanwhile cannot be removed and is skipped, not revoked; so are the
   * armed next runs of cron schedules.
   */
  async purge(name: string): Promise<{ queue: string; removed: number; revoked: number }> {
    const queue = this.queues.get(name);
    let removed = 0;
    let revoked = 0;
    const seen = new Set<string>();
    for (;;) {
      const jobs = (await queue.getJobs(['wait', PAUSED, 'prioritized', 'delayed'], 0, PURGE_PAGE - 1, true)).filter(
        (j): j is Job => Boolean(j?.id) && !seen.has(j!.id!),
      );
      if (jobs.length === 0) break;
      const ids: string[] = [];
      for (const job of jobs) {
        seen.add(job.id!);
        // The next run of a cron schedule belongs to the schedule: removing it would stop the cron.
        if (job.repeatJobKey) continue;
        if ((await queue.remove(job.id!)) > 0) ids.push(job.id!);
      }
      removed += ids.length;
      revoked += await this.control.markRevoked(ids);
    }
    this.logger.warn({ msg: 'Queue purged', queue: name, removed, revoked });
    return { queue: name, removed, revoked };
  }

  /** Enqueue time of the oldest job that could run now (delayed jobs count from their due time). */
  private async oldestWaiting(queue: Queue): Promise<number | null> {
    const candidates = await Promise.all([
      queue.getJobs(['wait'], 0, 0, true),
      queue.getJobs([PAUSED], 0, 0, true),
      queue.getJobs(['prioritized'], 0, 0, true),
    ]);
    const times = candidates
      .flat()
      .filter(Boolean)
      .map((job) => job.timestamp + (job.opts?.delay ?? 0));
    return times.length > 0 ? Math.min(...times) : null;
  }
}
