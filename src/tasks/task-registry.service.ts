import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { declaredTasks, TASK_HANDLER, TaskContext, TaskDefinition } from './task-definition';
import { RouteSource, TaskRouter } from './queues/task-routes';

export type TaskHandlerFn = (args: any, context: TaskContext<any>) => Promise<unknown>;

/** A declared task with its queue and bound handler. */
export interface RegisteredTask {
  definition: TaskDefinition;
  /** The effective queue: the declared one, or where `TASK_ROUTES` sends it. */
  queue: string;
  queueSource: RouteSource;
  handler: TaskHandlerFn;
}

/**
 * Every task the service knows (the old `celery_app.tasks.keys()`), found by scanning
 * providers for {@link TaskHandler} methods. Boot fails when a declared task has no handler
 * or two.
 */
@Injectable()
export class TaskRegistry implements OnModuleInit {
  readonly router: TaskRouter;
  private readonly tasks = new Map<string, RegisteredTask>();

  constructor(
    config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {
    this.router = TaskRouter.fromConfig(config);
  }

  onModuleInit(): void {
    const handlers = new Map<string, { definition: TaskDefinition; handler: TaskHandlerFn; owners: string[] }>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const definition = this.reflector.get<TaskDefinition | undefined>(TASK_HANDLER, prototype[method]);
        if (!definition) continue;
        const owner = `${instance.constructor.name}.${method}`;
        const existing = handlers.get(definition.name);
        if (existing) existing.owners.push(owner);
        else handlers.set(definition.name, { definition, handler: prototype[method].bind(instance), owners: [owner] });
      }
    }
    const problems: string[] = [];
    for (const [name, { owners }] of handlers) {
      if (owners.length > 1) problems.push(`${name} has ${owners.length} handlers: ${owners.join(', ')}`);
    }
    for (const definition of declaredTasks()) {
      if (!handlers.has(definition.name)) problems.push(`${definition.name} is declared but has no @TaskHandler`);
    }
    if (problems.length > 0) throw new Error(`Task registry is inconsistent:\n  - ${problems.join('\n  - ')}`);
    for (const [name, { definition, handler }] of handlers) {
      const route = this.router.resolve(name, definition.queue);
      this.tasks.set(name, { definition, handler, queue: route.queue, queueSource: route.source });
    }
  }

  get(name: string): RegisteredTask | undefined {
    return this.tasks.get(name);
  }

  all(): RegisteredTask[] {
    return [...this.tasks.values()].sort((a, b) => a.definition.name.localeCompare(b.definition.name));
  }

  /** Registered names close to `name`, for a helpful 404. */
  closeNames(name: string, max = 3): string[] {
    return [...this.tasks.keys()]
      .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
      .filter(
        ({ candidate, distance }) =>
          distance <= Math.max(3, Math.floor(candidate.length / 3)) || candidate.includes(name),
      )
      .sort((a, b) => a.distance - b.distance)
      .slice(0, max)
      .map(({ candidate }) => candidate);
  }
}

/** Levenshtein distance: small strings only (task names). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
