import { Module } from '@nestjs/common';
import { OpsController } from './ops.controller';
import { TaskStatsService } from './task-stats.service';
import { WorkerDirectory } from './worker-directory.service';
import { WorkerHeartbeat } from './worker-heartbeat.service';

/**
 * Operations: queue control (counts, pause/resume/purge), live workers, task statistics and
 * worker heartbeats. It only calls the task platform's services; it knows no BullMQ.
 */
@Module({
  controllers: [OpsController],
  providers: [WorkerDirectory, TaskStatsService, WorkerHeartbeat],
})
export class OpsModule {}
