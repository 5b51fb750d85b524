import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, Validate } from 'class-validator';
import { toInt } from '../config/environment-transforms';
import { HostLimits, IsHostLimits, parseJson } from './host-limits/host-limits';

/** Settings of `tasks.api.*`, read with `config.section(ApiCallsEnvironment)`. */
export class ApiCallsEnvironment {
  /**
   * Hosts, `*.suffix` wildcards, IPs and CIDRs the SSRF guard lets through although they are
   * private, loopback or link-local, e.g. `127.0.0.1,localhost,10.1.0.0/16,*.svc.cluster.local`.
   */
  @IsOptional()
  @IsString()
  API_CALLS_ALLOWED_HOSTS?: string;

  /** A response body larger than this aborts the download and fails the task. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(100 * 1024 * 1024)
  API_CALLS_MAX_RESPONSE_BYTES = 1024 * 1024;

  /** How much of the response body the `api_calls` record keeps. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1024 * 1024)
  API_CALLS_STORED_BODY_BYTES = 64 * 1024;

  /** Timeout of a call that does not set `timeoutMs`, redirects included. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  API_CALLS_DEFAULT_TIMEOUT_MS = 10_000;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(20)
  API_CALLS_MAX_REDIRECTS = 5;

  /**
   * A 429 or 503 with `Retry-After` (seconds or an HTTP date) delays the next attempt exactly
   * that long, in BullMQ (no worker slot held); the attempt counts. A server asking for more
   * than this fails the task at once, naming the delay, rather than retrying sooner than asked.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(24 * 3600_000)
  API_CALLS_MAX_RETRY_AFTER_MS = 300_000;

  /**
   * Per-host limits enforced across all workers, as JSON: host (or `*.suffix`) →
   * `{ "ratePerSecond": n, "concurrency": n }`, e.g. `{"api.example.com":{"ratePerSecond":10,"concurrency":4}}`.
   * A call over its host's limit waits in BullMQ (delayed, using no attempt), never in a worker slot.
   */
  @IsOptional()
  @Transform(parseJson)
  @Validate(IsHostLimits)
  API_CALLS_HOST_LIMITS?: HostLimits;

  /** How long a call waits in the queue before asking again for a slot of a host at its concurrency limit. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  API_CALLS_LIMIT_WAIT_MS = 250;
}
