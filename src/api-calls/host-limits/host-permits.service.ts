import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HostLimit } from './host-limits';

/** A slot taken for one call; `release` frees its concurrency share (its start still counts for the rate). */
export interface HostPermit {
  id: string;
}

export type PermitAnswer = { permit: HostPermit } | { waitMs: number; limit: 'rate' | 'concurrency' };

// The rate is a sliding window of one second: at most `ratePerSecond` starts in any second.
const WINDOW_MS = 1000;

/**
 * Per-host permits shared by every worker, kept in PostgreSQL (the store all workers have,
 * whatever the transport): one row per call started in the last second or still in flight.
 * A transaction-scoped advisory lock per host makes check-and-take atomic; a permit whose
 * worker died frees itself when its lease (the call's timeout plus a margin) ends.
 */
@Injectable()
export class HostPermits {
  constructor(private readonly db: DataSource) {}

  /** Takes a permit for `key` under `limit`, or says how long to wait before asking again. */
  async acquire(key: string, limit: HostLimit, leaseMs: number, slotWaitMs: number): Promise<PermitAnswer> {
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('tasks.api.host'), hashtext($1))`, [key]);
      const [state] = await m.query(
        `WITH pruned AS (
           DELETE FROM api_call_host_permits
           WHERE host = $1 AND started_at < clock_timestamp() - $2 * interval '1 millisecond'
             AND (released OR expires_at < clock_timestamp())
         )
         SELECT
           count(*) FILTER (WHERE NOT released AND expires_at > clock_timestamp())::int AS active,
           count(*) FILTER (WHERE started_at > clock_timestamp() - $2 * interval '1 millisecond')::int AS recent,
           extract(epoch FROM (min(started_at) FILTER (WHERE started_at > clock_timestamp() - $2 * interval '1 millisecond')
             + $2 * interval '1 millisecond' - clock_timestamp())) * 1000 AS "windowFreesInMs"
         FROM api_call_host_permits WHERE host = $1`,
        [key, WINDOW_MS],
      );
      if (limit.concurrency !== undefined && state.active >= limit.concurrency)
        return { waitMs: slotWaitMs, limit: 'concurrency' as const };
      if (limit.ratePerSecond !== undefined && state.recent >= limit.ratePerSecond)
        return { waitMs: Math.max(1, Math.ceil(Number(state.windowFreesInMs))), limit: 'rate' as const };
      const id = randomUUID();
      await m.query(
        `INSERT INTO api_call_host_permits (id, host, started_at, expires_at)
         VALUES ($1, $2, clock_timestamp(), clock_timestamp() + $3 * interval '1 millisecond')`,
        [id, key, leaseMs],
      );
      return { permit: { id } };
    });
  }

  async release(permit: HostPermit): Promise<void> {
    await this.db.query(`UPDATE api_call_host_permits SET released = true WHERE id = $1`, [permit.id]);
  }
}
