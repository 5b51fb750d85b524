import { Column, Entity, PrimaryColumn } from 'typeorm';

export const FILE_STATUSES = ['UPLOADED', 'PROCESSING', 'INDEXED', 'FAILED'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** An uploaded file; its bytes live in storage under `storageKey`. */
@Entity('files')
export class StoredFile {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  owner: string;

  @Column('varchar', { name: 'original_name', length: 255 })
  originalName: string;

  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size: number;

  @Column('char', { length: 64 })
  sha256: string;

  /** Sniffed from the content, never taken from the client. */
  @Column('varchar', { name: 'mime_type', length: 100 })
  mimeType: string;

  @Column('varchar', { length: 20, nullable: true })
  encoding: string | null;

  @Column('varchar', { name: 'storage_key', length: 300 })
  storageKey: string;

  @Column('varchar', { length: 16 })
  status: FileStatus;

  @Column('int', { name: 'chunk_count', default: 0 })
  chunkCount: number;

  @Column('varchar', { name: 'embedding_model', length: 200, nullable: true })
  embeddingModel: string | null;

  @Column('text', { nullable: true })
  error: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'indexed_at', nullable: true })
  indexedAt: Date | null;
}
