import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';

/**
 * Runs once before the e2e specs: checks that PostgreSQL and Redis answer, creates this run's
 * own database (so two runs never see each other's data), and compiles the service into
 * `.test-build/<run>/` for the specs that start it as a child process.
 */
const ROOT = resolve(__dirname, '../..');

export default async function globalSetup(): Promise<void> {
  const pgAdminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `tasks_e2e_${runId}`;

  const admin = new Client({ connectionString: pgAdminUrl });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`The e2e tests need PostgreSQL at ${pgAdminUrl} (set TEST_POSTGRES_URL): ${error.message}`, {
      cause: error,
    });
  }
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`The e2e tests need Redis at ${redisUrl} (set TEST_REDIS_URL): ${error.message}`, { cause: error });
  } finally {
    redis.disconnect();
  }

  const url = new URL(pgAdminUrl);
  url.pathname = `/${database}`;
  process.env.TEST_RUN_ID = runId;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_DATABASE_NAME = database;
  process.env.TEST_REDIS_URL = redisUrl;
  process.env.TEST_POSTGRES_URL = pgAdminUrl;

  // This run's own build: a concurrent `nest build` (which empties dist/) cannot break our child processes.
  const buildDir = join(ROOT, '.test-build', runId);
  execFileSync(
    'npx',
    [
      'swc',
      'src',
      '-d',
      buildDir,
      '--strip-leading-paths',
      '--copy-files',
      '--config-file',
      '.swcrc',
      '--ignore',
      '**/*.spec.ts',
      '--quiet',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  process.env.TEST_BUILD_DIR = buildDir;
}
