import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { IsCalendarDate } from '../common/calendar-date';

export class DailyReportsQuery {
  @ApiPropertyOptional({ example: '2026-11-01', description: 'First day, inclusive (default: 30 days before `to`)' })
  @IsOptional()
  @IsCalendarDate()
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-30', description: 'Last day, inclusive (default: today in TZ)' })
  @IsOptional()
  @IsCalendarDate()
  to?: string;
}

export class SnapshotsQuery {
  @ApiPropertyOptional({ description: 'Windows ending at or after this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Windows ending before this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;
}
