import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';
import { IsCalendarDate } from '../../common/calendar-date';
import { PageQuery } from '../../common/page-query';

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

class SnapshotFilters {
  @ApiPropertyOptional({ description: 'Windows ending at or after this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Windows ending before this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class SnapshotsQuery extends PageQuery({ default: 50, maximum: 500 }, SnapshotFilters) {}
