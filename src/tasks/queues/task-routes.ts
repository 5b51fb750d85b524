import { AppConfig } from '../../config/app-config';
import { QueueName } from '../queue-names';

/** Where a task's effective queue came from: its declaration, or an operator's `TASK_ROUTES` entry. */
export type RouteSource = 'declared' | `TASK_ROUTES ${string}`;

export interface ResolvedRoute {
  queue: string;
  source: RouteSource;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * Operator routing on top of the queues tasks declare, the way Celery's `task_routes` worked:
 * an exact name beats any glob, and among globs the most specific (longest literal part) wins.
 * A task no route matches runs on the queue it declares.
 */
export class TaskRouter {
  private readonly exact = new Map<string, string>();
  private readonly globs: { glob: string; pattern: RegExp; specificity: number; queue: string }[] = [];

  /** The routes of `TASK_ROUTES`. */
  static fromConfig(config: AppConfig): TaskRouter {
    return new TaskRouter(config.extraRoutes());
  }

  constructor(routes: Readonly<Record<string, string>>) {
    for (const [pattern, queue] of Object.entries(routes)) {
      if (/[*?]/.test(pattern)) {
        this.globs.push({
          glob: pattern,
          pattern: globToRegExp(pattern),
          specificity: pattern.replace(/[*?]/g, '').length,
          queue,
        });
      } else {
        this.exact.set(pattern, queue);
      }
    }
    this.globs.sort((a, b) => b.specificity - a.specificity);
  }

  /** The queue `taskName` runs on, given the queue its definition declares. */
  resolve(taskName: string, declaredQueue: string = QueueName.DEFAULT): ResolvedRoute {
    const exact = this.exact.get(taskName);
    if (exact !== undefined) return { queue: exact, source: `TASK_ROUTES ${taskName}` };
    const glob = this.globs.find((g) => g.pattern.test(taskName));
    if (glob) return { queue: glob.queue, source: `TASK_ROUTES ${glob.glob}` };
    return { queue: declaredQueue, source: 'declared' };
  }

  /** Every queue some operator route points at. */
  queues(): string[] {
    return [...new Set([...this.exact.values(), ...this.globs.map((g) => g.queue)])];
  }
}
