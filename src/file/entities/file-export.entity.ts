import { Column, Entity, PrimaryColumn } from 'typeorm';

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/** A finished ZIP export; its id is the `tasks.file.export_file` task's id, and it goes when that record expires. */
@Entity('file_exports')
export class FileExport {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  owner: string;

  @Column('varchar', { length: 255 })
  name: string;

  @Column('varchar', { name: 'storage_key', length: 300 })
  storageKey: string;

  /** Files in the archive (manifest.json not counted). */
  @Column('int')
  entries: number;

  @Column('bigint', { transformer: bigintAsNumber })
  size: number;

  @Column('char', { length: 64 })
  sha256: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;
}

/** One imported server file: owner + source path + content hash, so a rerun imports nothing twice. */
@Entity('file_imports')
export class FileImport {
  @PrimaryColumn('uuid')
  owner: string;

  @PrimaryColumn('text', { name: 'source_path' })
  sourcePath: string;

  @PrimaryColumn('char', { length: 64 })
  sha256: string;

  @Column('uuid', { name: 'file_id' })
  fileId: string;

  @Column('uuid', { name: 'task_id' })
  taskId: string;
}
