import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { toInt } from '../config/environment-transforms';

/** Settings of the operator surface: worker heartbeats and the default window of `GET /stats`. */
export class OpsEnvironment {
  /** How often a worker publishes itself for `GET /workers`; three missed beats and it is gone. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(60_000)
  WORKER_HEARTBEAT_MS = 5_000;

  /** Default window of `GET /stats`, in minutes. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 60)
  STATS_WINDOW_MINUTES = 60;
}
