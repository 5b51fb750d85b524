import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../auth/auth.decorators';
import { fieldErrorsException } from '../common/field-errors';
import { acceptedTask } from '../tasks/http/accepted-task';
import { SubmitContext, TakesIdempotencyKey } from '../tasks/http/submit-context';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { addDays, localDate } from '../common/calendar-date';
import { DailyReportService } from './daily-report.service';
import { DailyReportDto, StatsSnapshotDto } from './dto/stats-views.dto';
import { StatsCollector } from './stats-collector.service';
import { DailyReportsQuery, SnapshotsQuery } from './dto/stats-queries.dto';
import { DailyReportArgs, DailyReportTask } from './stats.tasks';

const MAX_REPORT_DAYS = 366;

/** Daily reports and interval snapshots. `GET /stats` itself is the queues module's (inspect stats). */
@ApiTags('stats')
@ApiBearerAuth()
@AdminOnly()
@Controller('stats')
export class StatsController {
  constructor(
    private readonly submission: TaskSubmissionService,
    private readonly reports: DailyReportService,
    private readonly collector: StatsCollector,
  ) {}

  @Get('daily')
  @ApiOperation({ summary: 'Daily reports from `from` to `to` (inclusive), newest first' })
  @ApiOkResponse({ type: [DailyReportDto] })
  listDaily(@Query() query: DailyReportsQuery) {
    const to = query.to ?? localDate(new Date(), this.reports.timeZone);
    const from = query.from ?? addDays(to, -30);
    if (from > to)
      throw fieldErrorsException([{ field: 'from', rule: 'beforeTo', message: 'from must not be after to' }]);
    if (addDays(from, MAX_REPORT_DAYS) < to)
      throw fieldErrorsException([
        { field: 'from', rule: 'maxRange', message: `from and to may be at most ${MAX_REPORT_DAYS} days apart` },
      ]);
    return this.reports.list(from, to);
  }

  @Post('daily')
  @ApiOperation({
    summary: "Submit tasks.stats.daily_report for a day (default yesterday in TZ); it replaces that day's report",
  })
  @TakesIdempotencyKey()
  async submitDaily(
    @Body() body: DailyReportArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return acceptedTask(response, await this.submission.submit(DailyReportTask, { ...body }, context.options()));
  }

  @Get('snapshots')
  @ApiOperation({ summary: 'Interval snapshots (task counts by name/state, queue depths), newest first' })
  @ApiOkResponse({ type: [StatsSnapshotDto] })
  snapshots(@Query() query: SnapshotsQuery) {
    return this.collector.list(
      query.from ? new Date(query.from) : undefined,
      query.to ? new Date(query.to) : undefined,
      query.limit,
    );
  }
}
