import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^\d+$/.test(String(value)) ? Number(value) : value;

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
   * A `Retry-After` up to this long is waited out before the attempt fails, so the retry does
   * not come sooner than the server asked; a longer one is left to the backoff.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  API_CALLS_MAX_RETRY_AFTER_MS = 10_000;
}
