import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { ApiKey, ApiKeyRole } from './entities/api-key.entity';
import { Principal } from './principal';

const CACHE_TTL_MS = 5_000;
const CACHE_MAX_KEYS = 10_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates, lists, revokes and verifies API keys. */
@Injectable()
export class ApiKeyService {
  // A short cache keeps a database round trip off every request; a revoke is seen within its TTL.
  // Only keys that exist are cached, so a flood of made-up keys cannot push the real ones out.
  private readonly cache = new Map<string, { principal: Principal; expires: number }>();

  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  /** Creates a key and returns it with its secret, which is shown once and never stored. */
  async create(
    name: string,
    role: ApiKeyRole,
    secret = `tsk_${randomBytes(24).toString('base64url')}`,
  ): Promise<{ key: ApiKey; secret: string }> {
    const key = await this.keys.save(
      this.keys.create({ name, role, keyHash: hashApiKey(secret), keyPrefix: secret.slice(0, 8) }),
    );
    return { key, secret };
  }

  /** Makes sure a key with this exact secret exists with the given role (for `ADMIN_API_KEY`). */
  async ensure(name: string, role: ApiKeyRole, secret: string): Promise<ApiKey> {
    const existing = await this.keys.findOneBy({ keyHash: hashApiKey(secret) });
    if (existing && !existing.revokedAt && existing.role === role) return existing;
    if (existing) {
      await this.keys.update(existing.id, { role, revokedAt: null });
      return { ...existing, role, revokedAt: null };
    }
    return (await this.create(name, role, secret)).key;
  }

  list(): Promise<ApiKey[]> {
    return this.keys.find({ order: { createdAt: 'ASC' } });
  }

  async countActive(): Promise<number> {
    return this.keys.countBy({ revokedAt: IsNull() });
  }

  /** Revokes by id or name; returns how many keys it revoked. */
  async revoke(idOrName: string): Promise<number> {
    const isUuid = /^[0-9a-f-]{36}$/i.test(idOrName);
    const result = await this.keys.update(
      isUuid ? { id: idOrName, revokedAt: IsNull() } : { name: idOrName, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
    this.cache.clear();
    return result.affected ?? 0;
  }

  async verify(secret: string): Promise<Principal | null> {
    const hash = hashApiKey(secret);
    const cached = this.cache.get(hash);
    if (cached && cached.expires > Date.now()) return cached.principal;
    const key = await this.keys.findOneBy({ keyHash: hash, revokedAt: IsNull() });
    if (!key) return null;
    const principal = { keyId: key.id, name: key.name, role: key.role };
    this.cache.delete(hash);
    if (this.cache.size >= CACHE_MAX_KEYS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(hash, { principal, expires: Date.now() + CACHE_TTL_MS });
    return principal;
  }
}
