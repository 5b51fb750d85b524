import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ContentAnalysis } from '../analysis/content-analysis';

/** The latest analysis of a file (`tasks.file.analyze_file`); one row per file. */
@Entity('file_analyses')
export class FileAnalysis {
  @PrimaryColumn('uuid', { name: 'file_id' })
  fileId: string;

  @Column('uuid', { name: 'task_id', nullable: true })
  taskId: string | null;

  @Column('jsonb')
  result: ContentAnalysis;

  @Column('timestamptz', { name: 'analysed_at' })
  analysedAt: Date;
}
