import { INestApplicationContext } from '@nestjs/common';
import { TaskRegistry } from '../../src/tasks/task-registry.service';

/** How a handler's own promise ended: not the runner's outcome, which may abandon a handler still running. */
export type HandlerEnd = { ended: 'resolved' | 'rejected'; value: unknown } | { ended: 'not yet' };

export interface HandlerCall {
  /** The signal the handler was given. */
  signal: AbortSignal;
  /** Resolves once the handler's promise settles, or with `not yet` after `withinMs`. */
  end(withinMs: number): Promise<HandlerEnd>;
}

export interface HandlerWatch {
  /** The latest call for `taskId`, or undefined if the handler was not called for it. */
  call(taskId: string): HandlerCall | undefined;
  /** Puts the original handler back. */
  restore(): void;
}

/**
 * Wraps the handler of task `name` in a service running in this process, to see what the
 * handler itself saw and did. The wrapper records and passes on: it never asserts, so a
 * failed `expect` cannot end up inside the handler, where the runner would record it as the
 * task's error (or as its timeout or cancel, once its signal fired).
 */
export function watchHandler(app: INestApplicationContext, name: string): HandlerWatch {
  const task = app.get(TaskRegistry).get(name);
  if (!task) throw new Error(`No handler is registered for ${name}`);
  const original = task.handler;
  const calls = new Map<string, HandlerCall>();
  task.handler = (args, context) => {
    const running = original(args, context);
    const settled = running.then(
      (value): HandlerEnd => ({ ended: 'resolved', value }),
      (value): HandlerEnd => ({ ended: 'rejected', value }),
    );
    calls.set(context.taskId, {
      signal: context.signal,
      end: (withinMs) => {
        let timer: NodeJS.Timeout | undefined;
        const notYet = new Promise<HandlerEnd>((r) => (timer = setTimeout(() => r({ ended: 'not yet' }), withinMs)));
        return Promise.race([settled, notYet]).finally(() => clearTimeout(timer));
      },
    });
    return running;
  };
  return {
    call: (taskId) => calls.get(taskId),
    restore: () => {
      task.handler = original;
    },
  };
}
