import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';
import { toInt, toTrimmed } from '../config/environment-transforms';

const REDIS_URL = /^rediss?:\/\/[^\s]+$/;

/**
 * The Celery ingress (`docs/migrating-from-celery.md`): worker-role processes consume the old
 * broker's Celery messages and answer in its result backend and pidbox. Off while
 * `CELERY_BROKER_URL` is unset.
 */
export class CeleryEnvironment {
  /** The old Celery broker (kombu's Redis transport), e.g. `redis://127.0.0.1:6380/0`. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(REDIS_URL, { message: 'CELERY_BROKER_URL must be a redis:// or rediss:// URL' })
  CELERY_BROKER_URL?: string;

  /** Where Celery callers read results (`celery-task-meta-<id>`); default: the broker URL. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(REDIS_URL, { message: 'CELERY_RESULT_BACKEND must be a redis:// or rediss:// URL' })
  CELERY_RESULT_BACKEND?: string;

  /** Broker queues consumed besides file_tasks, email_tasks, api_calls, credits, export and celery (comma-separated). */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  CELERY_QUEUES?: string;

  /** The API key that owns tasks arriving through Celery; default: the oldest active admin key. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsUUID('all', { message: 'CELERY_OWNER_KEY_ID must be an API key id (a UUID)' })
  CELERY_OWNER_KEY_ID?: string;

  /** Seconds a result stays in the result backend (Celery's `result_expires`). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  CELERY_RESULT_EXPIRES = 86_400;

  /** Seconds after which a message taken but not acked (its consumer died) is delivered again (kombu's `visibility_timeout`). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  CELERY_VISIBILITY_TIMEOUT = 3600;

  /** Messages taken from the broker in one go (each batch is one insert and one enqueue). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  CELERY_PREFETCH = 200;

  /** The node name's prefix in `inspect` replies (`<name>-<pid>@<host>`). */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[\w.-]+$/, { message: 'CELERY_WORKER_NAME may hold letters, digits, dots, dashes and underscores' })
  CELERY_WORKER_NAME = 'task-service';
}
