import { IsBoolean, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { defineTask } from '../task-definition';
import { QueueName } from '../queue-names';

export class NoopArgs {
  [key: string]: unknown;
}

export class SleepArgs {
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  ms: number;

  /** Fail this many first attempts (to exercise retries in smoke checks). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  failTimes?: number;
}

/** Returns its arguments: a smoke check and the benchmark's unit of work. */
export const NoopTask = defineTask({
  name: 'tasks.system.noop',
  celery: 'noop(*args, **kwargs)',
  queue: QueueName.DEFAULT,
  description: 'Returns its arguments unchanged',
  payload: NoopArgs,
  acceptsAnyArgs: true,
  retry: { attempts: 1, backoffMs: 0 },
  timeoutMs: 10_000,
});

/** Sleeps, honouring the abort signal (timeouts, cancel, shutdown tests). */
export const SleepTask = defineTask({
  name: 'tasks.system.sleep',
  celery: 'sleep(ms, fail_times=None)',
  queue: QueueName.DEFAULT,
  description: 'Sleeps for ms milliseconds; stops at once when cancelled',
  payload: SleepArgs,
  retry: { attempts: 3, backoffMs: 200 },
  timeoutMs: 3_600_000,
});

export class FailArgs {
  @IsOptional()
  @IsString()
  @Length(1, 500)
  message?: string;

  /** Fail permanently (no retry) instead of transiently. */
  @IsOptional()
  @IsBoolean()
  unrecoverable?: boolean;

  /** Ask for the next attempt after this many ms (a RetryAfterError), as a 429 Retry-After would. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  retryAfterMs?: number;
}

/** Always fails: exercises retries, FAILURE records and the dashboard's failed view. */
export const FailTask = defineTask({
  name: 'tasks.system.fail',
  celery: 'fail(message=None, unrecoverable=None, retry_after_ms=None)',
  queue: QueueName.DEFAULT,
  description: 'Always fails, transiently (retried) or with unrecoverable: true permanently',
  payload: FailArgs,
  retry: { attempts: 3, backoffMs: 200 },
  timeoutMs: 10_000,
});
