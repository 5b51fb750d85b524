import { Body, Controller, Get, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { fieldErrorsException } from '../common/field-errors';
import { CallerIdempotencyKey, IdempotencyKey } from '../common/idempotency-key';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { toTaskView } from '../tasks/records/task-view';
import { addDays, localDate } from '../common/calendar-date';
import { DailyReportService } from './daily-report.service';
import { DailyReportDto, StatsSnapshotDto } from './dto/stats-views.dto';
import { StatsCollector } from './stats-collector.service';
import { DailyReportsQuery, SnapshotsQuery } from './stats.queries';
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
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async submitDaily(
    @Body() body: DailyReportArgs,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: CallerIdempotencyKey | undefined,
    @Req() request: { id?: string },
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const { run, created } = await this.submission.submitByName({
      name: DailyReportTask.name,
      args: { ...body },
      owner: principal.keyId,
      idempotencyKey: key?.key,
      callerKey: key,
      requestId: request.id,
    });
    response.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK).header('Location', `/tasks/${run.id}`);
    return toTaskView(run);
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
