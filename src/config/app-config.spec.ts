import { FileEnvironment } from '../file/file.environment';
import { OpsEnvironment } from '../ops/ops.environment';
import { StatsEnvironment } from '../stats/stats.environment';
import { AppConfig } from './app-config';

describe('AppConfig', () => {
  it('applies defaults', () => {
    const sut = AppConfig.fromEnv({});
    expect(sut.env).toMatchObject({
      PORT: 3000,
      ROLE: 'all',
      TZ: 'Asia/Shanghai',
      WORKER_CONCURRENCY: 8,
      QUEUE_PREFIX: 'bull',
    });
    expect(sut.runsApi && sut.runsWorkers).toBe(true);
    expect(sut.usesRedis).toBe(false);
  });

  it('lists every invalid variable in one error', () => {
    expect(() =>
      AppConfig.fromEnv({
        PORT: 'eighty',
        ROLE: 'boss',
        REDIS_URL: 'http://x',
        WORKER_CONCURRENCY: '0',
        TZ: 'Mars/Olympus',
      }),
    ).toThrow(
      /Invalid configuration:\n(.|\n)*PORT(.|\n)*ROLE(.|\n)*REDIS_URL(.|\n)*WORKER_CONCURRENCY(.|\n)*TZ must be an IANA time zone/,
    );
  });

  it('reports bad variables of several domains in one error, before any section is read', () => {
    let message = '';
    try {
      AppConfig.fromEnv({ SMTP_POOL_SIZE: 'five', CHUNK_TOKENS: '0', STATS_SCHEDULE: 'sometimes' });
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    // One line per variable, naming it and the rule it breaks: the file, e-mail and stats domains.
    expect(lines.slice(1)).toEqual([
      '  - CHUNK_TOKENS: CHUNK_TOKENS must not be less than 50',
      '  - SMTP_POOL_SIZE: SMTP_POOL_SIZE must be an integer number',
      '  - STATS_SCHEDULE: STATS_SCHEDULE must be true or false',
    ]);
  });

  it('gives every domain section typed, with its defaults', () => {
    const sut = AppConfig.fromEnv({ STATS_SCHEDULE: 'false' });
    expect(sut.section(StatsEnvironment).STATS_SCHEDULE).toBe(false);
    expect(sut.section(OpsEnvironment).WORKER_HEARTBEAT_MS).toBe(5_000);
    class Unlisted {}
    expect(() => sut.section(Unlisted)).toThrow(/Unlisted is not listed in CONFIG_SECTIONS/);
  });

  it('treats an empty variable as unset, so its default applies', () => {
    const sut = AppConfig.fromEnv({ EMBEDDINGS_MODEL: '', WORKER_HEARTBEAT_MS: '', PORT: '' });
    expect(sut.section(FileEnvironment).EMBEDDINGS_MODEL).toBe('text-embedding-3-small');
    expect(sut.section(OpsEnvironment).WORKER_HEARTBEAT_MS).toBe(5_000);
    expect(sut.env.PORT).toBe(3000);
  });

  it('lets flags override the environment', () => {
    const sut = AppConfig.fromEnv({ ROLE: 'all' }, { ROLE: 'worker', WORKER_QUEUES: 'credits,export' });
    expect(sut.runsApi).toBe(false);
    expect(sut.workerQueues(['default', 'credits', 'export'])).toEqual(['credits', 'export']);
  });

  it('reads per-queue concurrency and extra routes', () => {
    const sut = AppConfig.fromEnv({
      QUEUE_CONCURRENCY: 'file_tasks=2,credits=16',
      TASK_ROUTES: '{"tasks.report.*":"reports"}',
    });
    expect(sut.concurrencyFor('file_tasks')).toBe(2);
    expect(sut.concurrencyFor('default')).toBe(8);
    expect(sut.extraRoutes()).toEqual({ 'tasks.report.*': 'reports' });
  });

  it('rejects malformed routes', () => {
    expect(() => AppConfig.fromEnv({ TASK_ROUTES: '{"a":1}' }).extraRoutes()).toThrow(/TASK_ROUTES/);
    expect(() => AppConfig.fromEnv({ TASK_ROUTES: 'nope' }).extraRoutes()).toThrow(/TASK_ROUTES/);
  });
});
