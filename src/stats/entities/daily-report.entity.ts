import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SubmittedTotals } from '../../tasks/records/task-statistics.service';

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
  totals: SubmittedTotals;

  @Column('jsonb')
  tasks: (SubmittedTotals & { name: string })[];

  /** The task that made this version of the report. */
  @Column('uuid', { name: 'task_id' })
  taskId: string;

  @Column('timestamptz', { name: 'generated_at' })
  generatedAt: Date;
}
