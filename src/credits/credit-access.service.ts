import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isAdmin, Principal } from '../auth/principal';

const ROLE_CACHE_TTL_MS = 30_000;

/**
 * Who may touch which accounts. A task carries the API key id that submitted it (`ctx.owner`);
 * its "scope" is the owner whose accounts it may use, or null for every account (system tasks
 * and admin keys). Handlers resolve it here, because a client can submit any credits task
 * through the generic `POST /tasks`.
 */
@Injectable()
export class CreditAccess {
  private readonly roles = new Map<string, { admin: boolean; expires: number }>();

  constructor(private readonly dataSource: DataSource) {}

  /** The scope of an HTTP caller. */
  scopeOf(principal: Principal): string | null {
    return isAdmin(principal) ? null : principal.keyId;
  }

  /** The scope of a task submitted by `owner` (null = a task the service started itself). */
  async scopeOfTask(owner: string | null): Promise<string | null> {
    if (owner === null) return null;
    return (await this.isAdminKey(owner)) ? null : owner;
  }

  private async isAdminKey(keyId: string): Promise<boolean> {
    const cached = this.roles.get(keyId);
    if (cached && cached.expires > Date.now()) return cached.admin;
    const rows: { role: string }[] = await this.dataSource.query(
      `SELECT role FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [keyId],
    );
    const admin = rows[0]?.role === 'admin';
    if (this.roles.size > 10_000) this.roles.clear();
    this.roles.set(keyId, { admin, expires: Date.now() + ROLE_CACHE_TTL_MS });
    return admin;
  }
}
