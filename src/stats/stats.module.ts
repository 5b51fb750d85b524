import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from '../auth/entities/api-key.entity';
import { DailyReportService } from './daily-report.service';
import { DailyReport } from './entities/daily-report.entity';
import { StatsSnapshot } from './entities/stats-snapshot.entity';
import { StatsAccess } from './stats-access.service';
import { StatsCollector } from './stats-collector.service';
import { StatsController } from './stats.controller';
import { StatsHandlers } from './stats.handlers';
import { StatsScheduler } from './stats.scheduler';

/** `tasks.stats.collect` and `tasks.stats.daily_report` on `default`, their schedule and admin endpoints. */
@Module({
  imports: [TypeOrmModule.forFeature([DailyReport, StatsSnapshot, ApiKey])],
  controllers: [StatsController],
  providers: [DailyReportService, StatsCollector, StatsAccess, StatsHandlers, StatsScheduler],
})
export class StatsModule {}
