import { rmSync } from 'node:fs';
import { Client } from 'pg';
import Redis from 'ioredis';

/** Drops this run's database, its build and its queue keys from the shared Redis. */
export default async function globalTeardown(): Promise<void> {
  const database = process.env.TEST_DATABASE_NAME;
  if (database && !process.env.TEST_KEEP_DATABASE) {
    const admin = new Client({ connectionString: process.env.TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
  if (process.env.TEST_BUILD_DIR) rmSync(process.env.TEST_BUILD_DIR, { recursive: true, force: true });
  const redis = new Redis(process.env.TEST_REDIS_URL!);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `e2e-${process.env.TEST_RUN_ID}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}
