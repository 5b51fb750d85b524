import { Type } from '@nestjs/common';
import { CONFIG_SECTIONS } from './config-sections';
import { Environment, invalidConfiguration, readSection, Role } from './environment';

const TASK_ROUTES_RULE = 'TASK_ROUTES: must be a JSON object of glob → queue name';

/**
 * The validated configuration of one process. Built once at start from the environment, with
 * every domain's section ({@link CONFIG_SECTIONS}) validated up front; domain modules read
 * their own sections through {@link AppConfig.section}.
 */
export class AppConfig {
  /** Resolved at start: `DATABASE_URL`, or the URL of the embedded PostgreSQL. */
  databaseUrl: string;

  private constructor(
    readonly env: Environment,
    private readonly sections: ReadonlyMap<Type<unknown>, unknown>,
    private readonly routes: Record<string, string>,
  ) {
    this.databaseUrl = env.DATABASE_URL ?? '';
  }

  /**
   * Reads and validates the core variables and every domain section at once. A bad
   * configuration throws one error listing every problem of every section.
   */
  static fromEnv(
    raw: Record<string, string | undefined> = process.env,
    overrides: Record<string, string | undefined> = {},
  ): AppConfig {
    const merged = { ...raw, ...overrides };
    const core = readSection(Environment, merged);
    const problems = [...core.problems];
    const sections = new Map<Type<unknown>, unknown>();
    for (const cls of CONFIG_SECTIONS) {
      const section = readSection(cls, merged);
      sections.set(cls, section.value);
      problems.push(...section.problems);
    }
    const routes = parseRoutes(core.value.TASK_ROUTES);
    if (routes === null) problems.push(TASK_ROUTES_RULE);
    // A variable two sections declare would otherwise be reported twice.
    const unique = [...new Set(problems)];
    if (unique.length > 0) throw invalidConfiguration(unique);
    return new AppConfig(core.value, sections, routes ?? {});
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

  /** Whether the queues run on Redis (one node, Sentinel or Cluster) rather than BullMQ's PostgreSQL backend. */
  get usesRedis(): boolean {
    return Boolean(this.env.REDIS_URL || this.env.REDIS_SENTINELS || this.env.REDIS_CLUSTER_NODES);
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
    return this.routes;
  }

  /**
   * A domain's own settings, validated by {@link fromEnv}: `cls` is one of
   * {@link CONFIG_SECTIONS}, a class-validator class whose properties are environment variable names.
   */
  section<T extends object>(cls: Type<T>): T {
    const section = this.sections.get(cls);
    if (!section) throw new Error(`${cls.name} is not listed in CONFIG_SECTIONS (src/config/config-sections.ts)`);
    return section as T;
  }
}

/** `TASK_ROUTES` as glob → queue, `{}` when unset, null when malformed. */
function parseRoutes(json: string | undefined): Record<string, string> | null {
  if (!json) return {};
  let routes: unknown;
  try {
    routes = JSON.parse(json);
  } catch {
    return null;
  }
  const valid =
    routes &&
    typeof routes === 'object' &&
    !Array.isArray(routes) &&
    Object.values(routes).every((q) => typeof q === 'string' && /^[\w-]+$/.test(q));
  return valid ? (routes as Record<string, string>) : null;
}
