import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';
import { toInt } from '../config/environment-transforms';

/** Probe thresholds and the shutdown hand-off to the load balancer. */
export class HealthEnvironment {
  /** /health/live fails when the event loop was blocked longer than this (ms) in the last window. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  HEALTH_MAX_EVENT_LOOP_DELAY_MS = 5_000;

  /** /health/live fails when the V8 heap in use exceeds this (MiB); a restart beats swapping. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(64)
  HEALTH_MAX_HEAP_MB = 1_536;

  /** /health/ready times each dependency out after this long (ms). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  HEALTH_CHECK_TIMEOUT_MS = 2_000;

  /**
   * On SIGTERM, /health/ready turns 503 and the process keeps serving for this long (ms) before
   * it closes, so Kubernetes removes the pod from its Service endpoints first. 0 on a laptop.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_READINESS_DELAY_MS = 0;
}
