import { Controller, ForbiddenException, Get, Header, Headers, Res, UnauthorizedException } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { extractApiKey } from '../auth/api-key.guard';
import { ApiKeyService } from '../auth/api-key.service';
import { Public } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { MetricsEnvironment } from './metrics.environment';
import { METRICS_ROUTE } from './metrics.routes';
import { TaskMetrics } from './task-metrics.service';

/**
 * Prometheus scrape endpoint. Marked public for the global guard because it has its own rule:
 * open with METRICS_PUBLIC=true, else an admin key or the scrape-only METRICS_TOKEN.
 */
@ApiTags('operations')
@ApiBearerAuth()
@Public()
@Controller(METRICS_ROUTE)
export class MetricsController {
  private readonly settings: MetricsEnvironment;

  constructor(
    private readonly metrics: TaskMetrics,
    private readonly apiKeys: ApiKeyService,
    config: AppConfig,
  ) {
    this.settings = config.section(MetricsEnvironment);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics: tasks by state, runtimes, retries, queue depth and oldest-waiting age, process',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'The Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res() response: FastifyReply,
  ): Promise<void> {
    await this.authorize(authorization);
    response.header('Content-Type', this.metrics.registry.contentType);
    response.send(await this.metrics.registry.metrics());
  }

  private async authorize(authorization: string | undefined): Promise<void> {
    if (this.settings.METRICS_PUBLIC) return;
    const secret = extractApiKey(authorization);
    if (!secret)
      throw new UnauthorizedException(
        'Metrics need an admin API key or METRICS_TOKEN: send Authorization: Bearer <key>',
      );
    if (this.settings.METRICS_TOKEN && sameSecret(secret, this.settings.METRICS_TOKEN)) return;
    const principal = await this.apiKeys.verify(secret);
    if (!principal) throw new UnauthorizedException('The API key is unknown or revoked');
    if (principal.role !== 'admin') throw new ForbiddenException('Metrics need an admin API key or METRICS_TOKEN');
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
