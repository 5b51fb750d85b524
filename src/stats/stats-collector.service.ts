import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { And, FindOptionsWhere, LessThan, MoreThanOrEqual, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { QueueOverviewService, TransportJobState } from '../tasks/queues/queue-overview.service';
import { TaskStatistics } from '../tasks/records/task-statistics.service';
import { TaskContext } from '../tasks/task-definition';
import { StatsSnapshot } from './entities/stats-snapshot.entity';
import { StatsAccess } from './stats-access.service';
import { StatsEnvironment } from './stats.environment';
import { CollectStatsArgs } from './stats.tasks';

const DEPTH_STATES: TransportJobState[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'];

/** `tasks.stats.collect`: one row per interval with task counts and queue depths. */
@Injectable()
export class StatsCollector {
  private readonly defaultMinutes: number;
  private readonly retentionDays: number;

  constructor(
    config: AppConfig,
    private readonly statistics: TaskStatistics,
    private readonly queues: QueueOverviewService,
    private readonly access: StatsAccess,
    @InjectRepository(StatsSnapshot) private readonly snapshots: Repository<StatsSnapshot>,
  ) {
    const settings = config.section(StatsEnvironment);
    this.defaultMinutes = settings.STATS_COLLECT_INTERVAL_MINUTES;
    this.retentionDays = settings.STATS_SNAPSHOT_RETENTION_DAYS;
  }

  /**
   * The task, for operators only. Keyed by the task id, so a redelivered collect overwrites its
   * own row instead of adding one.
   */
  async collect(
    args: CollectStatsArgs,
    { owner, taskId }: TaskContext<CollectStatsArgs>,
  ): Promise<{ windowStart: Date; windowEnd: Date; tasks: number; queueDepths: StatsSnapshot['queueDepths'] }> {
    await this.access.assertOperator(owner);
    const windowEnd = args.windowEnd ? new Date(args.windowEnd) : new Date();
    const windowStart = new Date(windowEnd.getTime() - (args.intervalMinutes ?? this.defaultMinutes) * 60_000);
    const taskCounts = await this.statistics.countsByState({ from: windowStart, to: windowEnd });
    const queueDepths = await this.queues.jobCounts(DEPTH_STATES);
    await this.snapshots.upsert({ taskId, windowStart, windowEnd, taskCounts, queueDepths, createdAt: new Date() }, [
      'taskId',
    ]);
    // The table maintains itself: collect is the one writer, so it is also the one that prunes.
    await this.snapshots.delete({ windowEnd: LessThan(new Date(Date.now() - this.retentionDays * 86_400_000)) });
    return { windowStart, windowEnd, tasks: taskCounts.reduce((sum, c) => sum + c.count, 0), queueDepths };
  }

  /** Snapshots whose window ended in [from, to), newest first. */
  list(from: Date | undefined, to: Date | undefined, limit: number): Promise<StatsSnapshot[]> {
    const bounds = [from && MoreThanOrEqual(from), to && LessThan(to)].filter((b) => b !== undefined);
    const where: FindOptionsWhere<StatsSnapshot> = bounds.length > 0 ? { windowEnd: And(...bounds) } : {};
    return this.snapshots.find({ where, order: { windowEnd: 'DESC' }, take: limit });
  }
}
