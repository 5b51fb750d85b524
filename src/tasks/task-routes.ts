import { AppConfig } from '../config/app-config';
import { QueueName } from './queue-names';

/** The old system's `task_routes`: glob → queue. An exact name beats any glob. */
export const DEFAULT_ROUTES: Readonly<Record<string, string>> = {
  'tasks.file.*': QueueName.FILE,
  'tasks.email.*': QueueName.EMAIL,
  'tasks.api.*': QueueName.API,
  'tasks.credits.*': QueueName.CREDITS,
  'tasks.file.export_file': QueueName.EXPORT,
};

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** Resolves task names to queues the way Celery's router did. */
export class TaskRouter {
  private readonly exact = new Map<string, string>();
  private readonly globs: { pattern: RegExp; specificity: number; queue: string }[] = [];

  /** The built-in routes with `TASK_ROUTES` on top. */
  static fromConfig(config: AppConfig): TaskRouter {
    return new TaskRouter({ ...DEFAULT_ROUTES, ...config.extraRoutes() });
  }

  constructor(routes: Readonly<Record<string, string>>) {
    for (const [pattern, queue] of Object.entries(routes)) {
      if (/[*?]/.test(pattern)) {
        this.globs.push({ pattern: globToRegExp(pattern), specificity: pattern.replace(/[*?]/g, '').length, queue });
      } else {
        this.exact.set(pattern, queue);
      }
    }
    // Among globs the most specific (longest literal part) wins, so `tasks.file.big.*` beats `tasks.file.*`.
    this.globs.sort((a, b) => b.specificity - a.specificity);
  }

  queueFor(taskName: string): string {
    return this.exact.get(taskName) ?? this.globs.find((g) => g.pattern.test(taskName))?.queue ?? QueueName.DEFAULT;
  }

  /** Every queue some route points at, plus `default`. */
  queues(): string[] {
    return [...new Set([QueueName.DEFAULT, ...this.exact.values(), ...this.globs.map((g) => g.queue)])];
  }
}
