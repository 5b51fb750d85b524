import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ApiKeyRole = 'admin' | 'client';
export const API_KEY_ROLES: readonly ApiKeyRole[] = ['admin', 'client'];

/** An API key. Only its SHA-256 is stored: keys are random, so a slow hash buys nothing. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('varchar', { length: 100 })
  name: string;

  @Column('varchar', { length: 16 })
  role: ApiKeyRole;

  @Column('char', { name: 'key_hash', length: 64, unique: true })
  keyHash: string;

  /** The first characters of the key, so people can tell their keys apart in listings. */
  @Column('varchar', { name: 'key_prefix', length: 12 })
  keyPrefix: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}
