import { Module } from '@nestjs/common';
import { QueuesModule } from '../queues/queues.module';
import { MetricsController } from './metrics.controller';
import { TaskMetrics } from './task-metrics.service';

/** `GET /metrics` for Prometheus (and KEDA through it). */
@Module({
  imports: [QueuesModule],
  controllers: [MetricsController],
  providers: [TaskMetrics],
  exports: [TaskMetrics],
})
export class MetricsModule {}
