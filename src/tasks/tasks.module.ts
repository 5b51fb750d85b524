import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { ActiveTasks } from './active-tasks.service';
import { PgNotifications } from './pg-notifications.service';
import { TaskCompletions } from './task-completions.service';
import { TaskRun } from './entities/task-run.entity';
import { QueueOverviewService } from './queue-overview.service';
import { createQueueProcessor } from './queue-processor.factory';
import { SystemHandlers } from './system/system.handlers';
import { TaskControlService } from './task-control.service';
import { TaskEvents } from './task-events';
import { TaskQueryService } from './task-query.service';
import { TaskQueues } from './task-queues.service';
import { TaskReconciler } from './task-reconciler.service';
import { TaskRecordWriter } from './task-record.writer';
import { TaskRegistry } from './task-registry.service';
import { TaskRunner } from './task-runner.service';
import { TaskStatistics } from './task-statistics.service';
import { TaskSubmissionService } from './task-submission.service';
import { TasksController } from './tasks.controller';
import { allQueues, QueueConnection, queuePrefix } from './queue-transport';
import { QUEUE_PROCESSORS, WorkerShutdown } from './worker-shutdown.service';
import { StoreHealth } from './store-health';
import { TaskOutbox } from './task-outbox.service';
import { TaskRetryPolicies } from './task-retry-policy';
import { queueTelemetry } from '../tracing/queue-telemetry';
import { TracingShutdown } from '../tracing/tracing-shutdown';

/**
 * The task platform: registry, submission, records, the worker runtime and the REST API.
 * Global, so domain modules inject {@link TaskSubmissionService} and friends directly.
 */
@Global()
@Module({})
export class TasksModule {
  static forRoot(config: AppConfig, connection: QueueConnection): DynamicModule {
    const queues = allQueues(config);
    const consumed = config.runsWorkers ? config.workerQueues(queues) : [];
    const unknown = consumed.filter((q) => !queues.includes(q));
    if (unknown.length > 0) {
      throw new Error(
        `Invalid configuration:\n  - WORKER_QUEUES: unknown queue(s) ${unknown.join(', ')}; known queues are ${queues.join(', ')}`,
      );
    }
    const processors = consumed.map((queue) => createQueueProcessor(queue, config));
    return {
      module: TasksModule,
      imports: [
        DiscoveryModule,
        TypeOrmModule.forFeature([TaskRun]),
        BullModule.forRoot({ connection, prefix: config.env.QUEUE_PREFIX, telemetry: queueTelemetry() }),
        // Workers take their queue's prefix: a hash tag per queue on a cluster (see queuePrefix).
        BullModule.registerQueue(...queues.map((name) => ({ name, prefix: queuePrefix(config, name) }))),
      ],
      controllers: config.runsApi ? [TasksController] : [],
      providers: [
        TaskRegistry,
        TaskQueues,
        TaskSubmissionService,
        TaskQueryService,
        TaskControlService,
        QueueOverviewService,
        TaskStatistics,
        TaskRecordWriter,
        TaskRunner,
        TaskEvents,
        ActiveTasks,
        PgNotifications,
        TaskCompletions,
        WorkerShutdown,
        SystemHandlers,
        StoreHealth,
        TaskOutbox,
        TaskRetryPolicies,
        TracingShutdown,
        ...(config.runsApi ? [TaskReconciler] : []),
        { provide: QUEUE_PROCESSORS, useValue: processors },
        ...processors,
      ],
      exports: [
        PgNotifications,
        TaskEvents,
        TaskRecordWriter,
        TaskRegistry,
        TaskQueues,
        TaskSubmissionService,
        TaskQueryService,
        TaskControlService,
        QueueOverviewService,
        TaskStatistics,
        ActiveTasks,
        WorkerShutdown,
        StoreHealth,
        TaskRetryPolicies,
        BullModule,
      ],
    };
  }
}
