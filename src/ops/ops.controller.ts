import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { ApiRoleGuard } from './api-role.guard';
import { PurgeResultDto, QueueListDto, QueueOverviewDto, StatsReportDto, WorkerListDto } from './dto/ops-views.dto';
import { QueueOverviewService } from '../tasks/queues/queue-overview.service';
import { OpsEnvironment } from './ops.environment';
import { StatsQuery } from './dto/stats-query.dto';
import { TaskStatsService } from './task-stats.service';
import { WorkerDirectory } from './worker-directory.service';

/** Operator controls: what Flower and `celery inspect`/`control` gave the old system. */
@ApiTags('operations')
@ApiBearerAuth()
@AdminOnly()
@UseGuards(ApiRoleGuard)
@Controller()
export class OpsController {
  private readonly settings: OpsEnvironment;

  constructor(
    private readonly queues: QueueOverviewService,
    private readonly workers: WorkerDirectory,
    private readonly stats: TaskStatsService,
    config: AppConfig,
  ) {
    this.settings = config.section(OpsEnvironment);
  }

  @Get('queues')
  @ApiOperation({ summary: 'Every queue: job counts by state, paused flag, age of the oldest waiting job' })
  @ApiOkResponse({ type: QueueListDto })
  async list() {
    return { queues: await this.queues.overviewAll() };
  }

  @Get('queues/:name')
  @ApiOperation({ summary: 'One queue: job counts by state, paused flag, age of the oldest waiting job' })
  @ApiOkResponse({ type: QueueOverviewDto })
  one(@Param('name') name: string) {
    return this.queues.overview(name);
  }

  @Post('queues/:name/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop workers everywhere from starting jobs of this queue (active ones finish)' })
  @ApiOkResponse({ type: QueueOverviewDto })
  pause(@Param('name') name: string) {
    return this.queues.pause(name);
  }

  @Post('queues/:name/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Let workers start jobs of this queue again' })
  @ApiOkResponse({ type: QueueOverviewDto })
  resume(@Param('name') name: string) {
    return this.queues.resume(name);
  }

  @Post('queues/:name/purge')
  @HttpCode(200)
  @ApiOperation({ summary: "Remove waiting and delayed jobs; their tasks become REVOKED (Celery's control purge)" })
  @ApiOkResponse({ type: PurgeResultDto })
  purge(@Param('name') name: string) {
    return this.queues.purge(name);
  }

  @Get('workers')
  @ApiOperation({ summary: "Live workers with their queues, concurrency and running tasks (Celery's inspect active)" })
  @ApiOkResponse({ type: WorkerListDto })
  async listWorkers() {
    return { workers: await this.workers.live() };
  }

  @Get('stats')
  @ApiOperation({
    summary:
      "Per queue and per task: processed, failed, retried, runtime p50/p95 over a window (Celery's inspect stats)",
  })
  @ApiOkResponse({ type: StatsReportDto })
  report(@Query() query: StatsQuery) {
    return this.stats.report(query.windowMinutes ?? this.settings.STATS_WINDOW_MINUTES);
  }
}
