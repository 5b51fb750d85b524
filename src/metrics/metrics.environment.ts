import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { toBool, toInt, toTrimmed } from '../config/environment-transforms';

/** Who may scrape `GET /metrics`. */
export class MetricsEnvironment {
  /**
   * `true` serves /metrics without credentials: only for a port that is reachable from the
   * monitoring network alone. Otherwise a scraper sends an admin key or `METRICS_TOKEN`.
   */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  METRICS_PUBLIC = false;

  /** A bearer token that opens /metrics and nothing else, so Prometheus needs no admin key. */
  @IsOptional()
  @Transform(toTrimmed)
  @Matches(/^\S{16,}$/, { message: 'METRICS_TOKEN must be at least 16 characters without spaces' })
  METRICS_TOKEN?: string;

  /**
   * How long a scrape waits for each store read (queue counts, outbox, workers). A store that
   * hangs then costs one timeout, and the scrape still answers with every other gauge.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(10_000)
  METRICS_READ_TIMEOUT_MS = 800;
}
