import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskContext, TaskHandler } from '../task-definition';
import { RetryAfterError } from '../retry-after.error';
import { FailArgs, FailTask, NoopArgs, NoopTask, SleepArgs, SleepTask } from './system.tasks';

/** The built-in tasks. */
@Injectable()
export class SystemHandlers {
  @TaskHandler(NoopTask)
  async noop(args: NoopArgs): Promise<NoopArgs> {
    return args;
  }

  @TaskHandler(SleepTask)
  async sleep(args: SleepArgs, ctx: TaskContext<SleepArgs>): Promise<{ sleptMs: number }> {
    if (args.failTimes && ctx.attempt <= args.failTimes)
      throw new Error(`Failing attempt ${ctx.attempt} of ${args.failTimes} on purpose`);
    const started = Date.now();
    const step = Math.max(10, Math.min(1000, args.ms / 10));
    while (Date.now() - started < args.ms) {
      await sleep(Math.min(step, args.ms - (Date.now() - started)), undefined, { signal: ctx.signal });
      ctx.progress(Math.min(100, Math.round(((Date.now() - started) / args.ms) * 100)));
    }
    return { sleptMs: Date.now() - started };
  }

  @TaskHandler(FailTask)
  async fail(args: FailArgs): Promise<never> {
    const message = args.message ?? 'Failing on purpose';
    if (args.retryAfterMs !== undefined) throw new RetryAfterError(args.retryAfterMs, message);
    throw args.unrecoverable ? new UnrecoverableError(message) : new Error(message);
  }
}
