import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { RunningService, startService } from '../../src/bootstrap';
import { AppConfig } from '../../src/config/app-config';
import { ApiClient } from './api-client';

export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';

/** Environment for a service in this test run: the run's database, shared Redis, own queue prefix. */
export function testEnvironment(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    REDIS_URL: process.env.TEST_REDIS_URL,
    QUEUE_PREFIX: `e2e-${process.env.TEST_RUN_ID}-${randomBytes(3).toString('hex')}`,
    ADMIN_API_KEY: ADMIN_KEY,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    DATA_DIR: `/tmp/task-service-e2e/${process.env.TEST_RUN_ID}`,
    JOB_LOCK_MS: '5000',
    STATS_SCHEDULE: 'false',
    SHUTDOWN_GRACE_MS: '10000',
    PATH: process.env.PATH,
    ...overrides,
  };
}

export interface TestService {
  service: RunningService;
  baseUrl: string;
  /** A client with the admin key. */
  admin: ApiClient;
  env: Record<string, string | undefined>;
  /** Creates a client-role key and returns a client that uses it. */
  newClient(name?: string): Promise<ApiClient>;
  stop(): Promise<void>;
}

/** Boots the real service in this process (all roles unless `ROLE` is overridden). */
export async function startTestService(overrides: Record<string, string | undefined> = {}): Promise<TestService> {
  const env = testEnvironment(overrides);
  const service = await startService(AppConfig.fromEnv(env));
  const server = service.app.getHttpServer();
  const port = (server.address() as AddressInfo | null)?.port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const admin = new ApiClient(baseUrl, env.ADMIN_API_KEY);
  return {
    service,
    baseUrl,
    admin,
    env,
    newClient: async (name = `client-${randomBytes(3).toString('hex')}`) => {
      const { secret } = await service.app.get(ApiKeyService).create(name, 'client');
      return new ApiClient(baseUrl, secret);
    },
    stop: () => service.stop(),
  };
}
