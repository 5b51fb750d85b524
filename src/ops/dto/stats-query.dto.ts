import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class StatsQuery {
  @ApiPropertyOptional({ description: 'Window in minutes (default STATS_WINDOW_MINUTES, 60)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 60)
  windowMinutes?: number;
}
