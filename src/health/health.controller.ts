import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { HealthEnvironment } from './health.environment';
import { ServiceHealthIndicators } from './health.indicators';
import { HEALTH_ROUTE } from './health.routes';

/** Kubernetes probes. Public: kubelets carry no API key, and the answers reveal nothing secret. */
@ApiTags('health')
@Public()
@Controller(HEALTH_ROUTE)
export class HealthController {
  private readonly settings: HealthEnvironment;

  constructor(
    private readonly health: HealthCheckService,
    private readonly service: ServiceHealthIndicators,
    config: AppConfig,
  ) {
    this.settings = config.section(HealthEnvironment);
  }

  /** Only what a restart would fix: a wedged loop or a runaway heap. Never the dependencies. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process can serve (event loop and heap within limits)' })
  live() {
    return this.health.check([
      () => this.service.eventLoop(),
      () => this.service.heap(this.settings.HEALTH_MAX_HEAP_MB * 1024 * 1024),
    ]);
  }

  /** Whether to send traffic here: every dependency answers and no shutdown is under way. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database, queue transport and storage answer; 503 naming the failing one' })
  ready() {
    return this.health.check([
      () => this.service.notShuttingDown(),
      () => this.service.database(),
      () => this.service.transport(),
      () => this.service.storage(),
    ]);
  }
}
