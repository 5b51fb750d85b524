import { Type } from '@nestjs/common';
import { Environment, Role, validateConfig } from './environment';

/**
 * The validated configuration of one process. Built once at start from the environment;
 * domain modules read their own sections through {@link AppConfig.section}.
 */
export class AppConfig {
  /** Resolved at start: `DATABASE_URL`, or the URL of the embedded PostgreSQL. */
  databaseUrl: string;
  private readonly sections = new Map<Type<unknown>, unknown>();

  constructor(
    readonly env: Environment,
    private readonly raw: Record<string, string | undefined>,
  ) {
    this.databaseUrl = env.DATABASE_URL ?? '';
  }

  static fromEnv(
    raw: Record<string, string | undefined> = process.env,
    overrides: Record<string, string | undefined> = {},
  ): AppConfig {
    const merged = { ...raw, ...overrides };
    return new AppConfig(validateConfig(Environment, merged), merged);
  }

  get role(): Role {
    return this.env.ROLE;
  }

  get runsApi(): boolean {
    return this.role !== 'worker';
  }

  get runsWorkers(): boolean {
    return this.role !== 'api';
  }

  get usesRedis(): boolean {
    return Boolean(this.env.REDIS_URL);
  }

  /** The queues this process consumes, or every known queue when `WORKER_QUEUES` is unset. */
  workerQueues(known: readonly string[]): string[] {
    if (!this.env.WORKER_QUEUES) return [...known];
    return this.env.WORKER_QUEUES.split(',').map((q) => q.trim());
  }

  concurrencyFor(queue: string): number {
    for (const pair of (this.env.QUEUE_CONCURRENCY ?? '').split(',')) {
      const [name, value] = pair.split('=');
      if (name === queue && value) return Number(value);
    }
    return this.env.WORKER_CONCURRENCY;
  }

  /** Extra task routes from `TASK_ROUTES` (glob → queue). */
  extraRoutes(): Record<string, string> {
    if (!this.env.TASK_ROUTES) return {};
    let routes: unknown;
    try {
      routes = JSON.parse(this.env.TASK_ROUTES);
    } catch {
      throw new Error('Invalid configuration:\n  - TASK_ROUTES: must be a JSON object of glob → queue name');
    }
    const valid =
      routes &&
      typeof routes === 'object' &&
      !Array.isArray(routes) &&
      Object.values(routes).every((q) => typeof q === 'string' && /^[\w-]+$/.test(q));
    if (!valid) throw new Error('Invalid configuration:\n  - TASK_ROUTES: must be a JSON object of glob → queue name');
    return routes as Record<string, string>;
  }

  /**
   * A domain's own settings: `cls` is a class-validator class whose properties are
   * environment variable names. Validated once; a bad value throws with every problem listed.
   */
  section<T extends object>(cls: Type<T>): T {
    const cached = this.sections.get(cls);
    if (cached) return cached as T;
    const parsed = validateConfig(cls as new () => T, this.raw);
    this.sections.set(cls, parsed);
    return parsed;
  }
}
