import { Module } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { PlatformGauges } from './platform-gauges.service';
import { TaskMetrics } from './task-metrics.service';

/** `GET /metrics` for Prometheus (and KEDA through it), and the HTTP timings of every route (hooked in by bootstrap). */
@Module({
  controllers: [MetricsController],
  providers: [TaskMetrics, PlatformGauges, HttpMetricsMiddleware],
  exports: [TaskMetrics, HttpMetricsMiddleware],
})
export class MetricsModule {}
