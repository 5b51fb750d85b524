import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { RetryAfterError } from '../retry-after.error';
import { RetryPolicy } from '../task-definition';
import { TaskRegistry } from '../task-registry.service';
import { RetryOverrides, TaskRetryEnvironment } from './task-retry.environment';

/** The BullMQ backoff type of our jobs: the delay is decided by the runner (see {@link retryDelayMs}). */
export const TASK_BACKOFF = 'task';
const JITTER = 0.5;

/**
 * The retry policy that applies to each task: its declaration, with the operator's
 * `TASK_RETRY_OVERRIDES` on top. A name in the overrides that no task has fails the boot.
 */
@Injectable()
export class TaskRetryPolicies implements OnModuleInit {
  private readonly overrides: RetryOverrides;

  constructor(
    config: AppConfig,
    private readonly registry: TaskRegistry,
  ) {
    this.overrides = config.section(TaskRetryEnvironment).TASK_RETRY_OVERRIDES ?? {};
  }

  onModuleInit(): void {
    const unknown = Object.keys(this.overrides).filter((name) => !this.registry.get(name));
    if (unknown.length > 0)
      throw new Error(
        `Invalid configuration:\n  - TASK_RETRY_OVERRIDES: no task is registered as ${unknown.join(', ')}`,
      );
  }

  /** The effective policy of task `name` (the default policy for an unknown name). */
  policyFor(name: string): RetryPolicy {
    const declared = this.registry.get(name)?.definition.retry ?? { attempts: 1, backoffMs: 0 };
    return { ...declared, ...this.overrides[name] };
  }
}

/**
 * The delay before attempt `attempt + 1` after attempt `attempt` failed with `error`: what a
 * {@link RetryAfterError} asks for, else exponential backoff (`backoffMs`, doubling) with up to
 * 50 % jitter, as BullMQ's own exponential strategy computes it.
 */
export function retryDelayMs(error: unknown, attempt: number, backoffMs: number): number {
  if (error instanceof RetryAfterError) return Math.round(error.delayMs);
  const max = Math.round(2 ** (attempt - 1) * backoffMs);
  return Math.floor(max * (1 - JITTER) + Math.random() * max * JITTER);
}

/** Set by the runner on the error it rethrows: the delay it recorded as the task's `runAt`. */
export const PLANNED_DELAY = Symbol('plannedRetryDelayMs');

/**
 * The Worker's `settings.backoffStrategy` for {@link TASK_BACKOFF} jobs: the delay the runner
 * planned and recorded, so BullMQ waits exactly what the record says.
 */
export function taskBackoffStrategy(
  attemptsMade: number,
  _type?: string,
  error?: Error,
  job?: { opts: { backoff?: unknown } },
): number {
  const planned = (error as { [PLANNED_DELAY]?: number } | undefined)?.[PLANNED_DELAY];
  if (typeof planned === 'number') return planned;
  const backoff = job?.opts.backoff as { delay?: number } | undefined;
  return retryDelayMs(error, attemptsMade, backoff?.delay ?? 1000);
}
