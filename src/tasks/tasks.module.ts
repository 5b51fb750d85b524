import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { ActiveTasks } from './run/active-tasks.service';
import { PgNotifications } from './records/pg-notifications.service';
import { TaskCompletions } from './records/task-completions.service';
import { TaskRun } from './records/entities/task-run.entity';
import { QueueOverviewService } from './queues/queue-overview.service';
import { createQueueProcessor } from './run/queue-processor.factory';
import { SystemHandlers } from './system/system.handlers';
import { TaskControlService } from './run/task-control.service';
import { TaskEvents } from './task-events';
import { TaskQueryService } from './records/task-query.service';
import { TaskQueues } from './queues/task-queues.service';
import { TaskReconciler } from './records/task-reconciler.service';
import { TaskRetention } from './records/task-retention.service';
import { TaskRecordWriter } from './run/task-record.writer';
import { TaskRunStore } from './records/task-run.store';
import { TaskRunPartitions } from './records/task-run-partitions';
import { TaskRegistry } from './task-registry.service';
import { TaskRunner } from './run/task-runner.service';
import { TaskStatistics } from './records/task-statistics.service';
import { TaskSubmissionService } from './submit/task-submission.service';
import { TaskEnqueuer } from './submit/task-enqueuer';
import { TasksController } from './http/tasks.controller';
import { allQueues, QueueConnection, queuePrefix } from './queues/queue-transport';
import { QUEUE_PROCESSORS, WorkerShutdown } from './run/worker-shutdown.service';
import { StoreHealth } from './store-health';
import { TaskOutbox } from './submit/task-outbox.service';
import { TaskRetryPolicies } from './run/task-retry-policy';
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
        TaskEnqueuer,
        TaskQueryService,
        TaskControlService,
        QueueOverviewService,
        TaskStatistics,
        TaskRecordWriter,
        TaskRunStore,
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
        ...(config.runsApi ? [TaskReconciler, TaskRetention, TaskRunPartitions] : []),
        { provide: QUEUE_PROCESSORS, useValue: processors },
        ...processors,
      ],
      exports: [
        PgNotifications,
        TaskCompletions,
        TaskEvents,
        TaskRecordWriter,
        TaskRunStore,
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
