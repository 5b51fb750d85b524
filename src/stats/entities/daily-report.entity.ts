import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Counts for one task name (or for all of them) over one day. */
export interface TaskTotals {
  submitted: number;
  succeeded: number;
  failed: number;
  revoked: number;
  /** Still PENDING, STARTED or RETRY when the report was made. */
  open: number;
  /** Attempts beyond the first, summed. */
  retries: number;
  /** percentile_cont over the runtime of SUCCESS tasks; null when none succeeded. */
  runtimeP50Ms: number | null;
  runtimeP95Ms: number | null;
}

/** One calendar day in `timezone`: totals of the tasks created that day, per task name. */
@Entity('daily_reports')
export class DailyReport {
  /** `YYYY-MM-DD`; one report per day, re-running replaces it. */
  @PrimaryColumn('date')
  date: string;

  @Column('varchar', { length: 64 })
  timezone: string;

  @Column('timestamptz', { name: 'window_start' })
  windowStart: Date;

  @Column('timestamptz', { name: 'window_end' })
  windowEnd: Date;

  @Column('jsonb')
  totals: TaskTotals;

  @Column('jsonb')
  tasks: (TaskTotals & { name: string })[];

  /** The task that made this version of the report. */
  @Column('uuid', { name: 'task_id' })
  taskId: string;

  @Column('timestamptz', { name: 'generated_at' })
  generatedAt: Date;
}
