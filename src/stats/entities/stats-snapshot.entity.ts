import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Task counts over one collect interval and queue depths at its end. Keyed by the collect task's id. */
@Entity('stats_snapshots')
export class StatsSnapshot {
  @PrimaryColumn('uuid', { name: 'task_id' })
  taskId: string;

  @Column('timestamptz', { name: 'window_start' })
  windowStart: Date;

  @Column('timestamptz', { name: 'window_end' })
  windowEnd: Date;

  /** Tasks created in the window, by name and their state when the snapshot was taken. */
  @Column('jsonb', { name: 'task_counts' })
  taskCounts: { name: string; state: string; count: number }[];

  /** Per queue: waiting, active, delayed, prioritized, waiting-children, failed jobs in the transport. */
  @Column('jsonb', { name: 'queue_depths' })
  queueDepths: Record<string, Record<string, number>>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;
}
