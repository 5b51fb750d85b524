import { Transform, plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  ValidateIf,
  validateSync,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { toInt, toTrimmed } from './environment-transforms';
import {
  OneRedisScheme,
  OneRedisTopology,
  REDIS_NODE_LIST,
  SentinelMasterNeedsSentinels,
} from './redis-topology.rules';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

/** An IANA time zone this runtime knows (`Asia/Shanghai`, `UTC`). */
@ValidatorConstraint({ name: 'isTimeZone' })
class IsTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: String(value) });
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(): string {
    return 'TZ must be an IANA time zone such as Asia/Shanghai or UTC';
  }
}

/**
 * Every environment variable the service reads, with its rule. `.env.example` documents
 * each one; this class is the only place that reads `process.env`.
 */
export class Environment {
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @IsIn(ROLES)
  ROLE: Role = 'all';

  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /**
   * Redis behind Sentinel: the sentinels as `host:port,host:port,…` (`rediss://host:port` for
   * TLS, as for `REDIS_URL`); every connection asks them for the master and follows a failover.
   */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(REDIS_NODE_LIST, { message: 'REDIS_SENTINELS must be a comma-separated list of host:port' })
  @Validate(OneRedisScheme)
  @Validate(OneRedisTopology)
  REDIS_SENTINELS?: string;

  /** The master set the sentinels watch (`sentinel monitor <name> …`); required with `REDIS_SENTINELS`. */
  @ValidateIf((env: Environment) => Boolean(env.REDIS_SENTINELS) || env.REDIS_SENTINEL_MASTER !== undefined)
  @Transform(toTrimmed)
  @IsString({ message: 'REDIS_SENTINEL_MASTER is required when REDIS_SENTINELS is set' })
  @Matches(/^[\w.-]+$/, {
    message: 'REDIS_SENTINEL_MASTER must name the master set of REDIS_SENTINELS (letters, digits, _, . and -)',
  })
  @Validate(SentinelMasterNeedsSentinels)
  REDIS_SENTINEL_MASTER?: string;

  /** The sentinels' own password (`requirepass` of the sentinels), when they have one. */
  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  /** Redis Cluster: some of its nodes as `host:port,…` (`rediss://` for TLS); the rest are discovered. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(REDIS_NODE_LIST, { message: 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port' })
  @Validate(OneRedisScheme)
  @Validate(OneRedisTopology)
  REDIS_CLUSTER_NODES?: string;

  /** The data nodes' password with `REDIS_SENTINELS` or `REDIS_CLUSTER_NODES` (with `REDIS_URL`, put it in the URL). */
  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  /** Where embedded PostgreSQL, the outbox and file storage live when nothing else is configured. */
  @IsOptional()
  @IsString()
  DATA_DIR = '.data';

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_POSTGRES_PORT = 54329;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(200)
  DATABASE_POOL_SIZE = 20;

  /** Comma-separated queue names this worker consumes; empty means every queue. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[\w-]+(,[\w-]+)*$/, { message: 'WORKER_QUEUES must be a comma-separated list of queue names' })
  WORKER_QUEUES?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  WORKER_CONCURRENCY = 8;

  /** Per-queue overrides, e.g. `file_tasks=2,credits=16`. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^[\w-]+=\d+(,[\w-]+=\d+)*$/, { message: 'QUEUE_CONCURRENCY must look like file_tasks=2,credits=16' })
  QUEUE_CONCURRENCY?: string;

  /** JSON object of extra routes, glob → queue, e.g. `{"tasks.report.*":"reports"}`. */
  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  TASK_ROUTES?: string;

  /** BullMQ key prefix; lets several deployments (or test runs) share one Redis. */
  @IsOptional()
  @Matches(/^[\w:-]+$/, { message: 'QUEUE_PREFIX may hold letters, digits, _, - and :' })
  QUEUE_PREFIX = 'bull';

  @IsOptional()
  @IsString()
  @Validate(IsTimeZone)
  TZ = 'Asia/Shanghai';

  /** How long finished task records (and their results) are kept, in seconds (records of our own ids go a UTC day at a time, so up to a day longer). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(60)
  RESULT_EXPIRES_SECONDS = 7 * 24 * 3600;

  /** How long finished BullMQ jobs stay in the transport, in seconds (the record outlives them). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  JOB_RETENTION_SECONDS = 3600;

  /** How long a worker's lock on a job lasts; a dead worker's job is re-run after about this long. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  JOB_LOCK_MS = 30_000;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  RECONCILE_INTERVAL_MS = 30_000;

  /** A PENDING/RETRY record is only re-enqueued once it is at least this old. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RECONCILE_MIN_AGE_MS = 30_000;

  @IsOptional()
  @Transform(toTrimmed)
  @IsString()
  @Matches(/^\S{16,}$/, { message: 'ADMIN_API_KEY must be at least 16 characters without spaces' })
  ADMIN_API_KEY?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS = 25_000;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = 'json';
}

/**
 * Reads the environment variables that `cls` declares (class-validator rules on properties
 * named like the variables). Returns the parsed section and one line per bad variable.
 */
export function readSection<T extends object>(
  cls: new () => T,
  env: Record<string, string | undefined>,
): { value: T; problems: string[] } {
  // An empty variable means "not set": dropped here, so the property's default applies (a
  // transform that turned it into undefined would overwrite the default instead).
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const value = plainToInstance(cls, set, { exposeDefaultValues: true });
  // One line per variable: the first rule declared on it that fails. class-validator registers
  // decorators bottom-up, so that rule is the last one it lists (a word given as a number says
  // "must be an integer", not also "must not be greater than 100").
  const problems = validateSync(value).map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).at(-1)}`);
  return { value, problems };
}

/** One error for every problem found, in the form the service prints at boot. */
export function invalidConfiguration(problems: readonly string[]): Error {
  return new Error(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
