import { Module } from '@nestjs/common';
import { QueueOverviewService } from './queue-overview.service';
import { QueuesController } from './queues.controller';
import { TaskStatsService } from './task-stats.service';
import { WorkerDirectory } from './worker-directory.service';
import { WorkerHeartbeat } from './worker-heartbeat.service';

/** Queue control for operators: counts, pause/resume/purge, live workers and task statistics. */
@Module({
  controllers: [QueuesController],
  providers: [QueueOverviewService, WorkerDirectory, TaskStatsService, WorkerHeartbeat],
  exports: [QueueOverviewService, WorkerDirectory, TaskStatsService],
})
export class QueuesModule {}
