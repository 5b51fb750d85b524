import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { toBool, toInt } from '../config/environment-transforms';

/** Settings of `tasks.stats.*`, read with `config.section(StatsEnvironment)`. */
export class StatsEnvironment {
  /** Whether api processes submit `collect` and `daily_report` on schedule (`false` in tests). */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'STATS_SCHEDULE must be true or false' })
  STATS_SCHEDULE = true;

  /** `collect` runs at every multiple of this many minutes (UTC-aligned) over the interval just ended. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1440)
  STATS_COLLECT_INTERVAL_MINUTES = 5;

  /** Each collect deletes snapshots whose window ended longer ago than this. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  STATS_SNAPSHOT_RETENTION_DAYS = 30;
}
