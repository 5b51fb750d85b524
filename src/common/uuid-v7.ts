import { randomFillSync } from 'node:crypto';

const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix time in milliseconds, the version, then 74 random bits.
 * Task ids are made this way so that records created together sit together in `task_runs`'
 * primary key: inserting and finishing recent tasks touch the key's recent pages, which stay in
 * memory however many older records the table holds (with random uuid4 ids, every insert and
 * every finish read a random page of a key that outgrows memory at tens of millions of records).
 * The random bits come from a pool filled 256 ids at a time, as `crypto.randomUUID` does.
 */
export function uuidV7(now: number = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(16 * next, 16 * ++next);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
