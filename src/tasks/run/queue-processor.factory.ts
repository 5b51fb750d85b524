import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Type } from '@nestjs/common';
import { Job } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { taskBackoffStrategy } from './task-retry-policy';
import { TaskRunner } from './task-runner.service';

/**
 * One `@nestjs/bullmq` processor per queue. Which task a job is comes from its name, so a
 * queue can carry tasks of several domains, exactly as Celery routes allowed.
 */
export function createQueueProcessor(queue: string, config: AppConfig): Type<WorkerHost> {
  const retentionSeconds = config.env.JOB_RETENTION_SECONDS;
  @Processor(queue, {
    concurrency: config.concurrencyFor(queue),
    lockDuration: config.env.JOB_LOCK_MS,
    stalledInterval: config.env.JOB_LOCK_MS,
    maxStalledCount: 2,
    // The task record outlives the job: the transport only keeps recent jobs for the dashboard.
    removeOnComplete: { age: retentionSeconds, count: 10_000 },
    removeOnFail: { age: retentionSeconds * 24, count: 10_000 },
    // Jobs with our `task` backoff type wait the delay the runner planned and recorded.
    settings: { backoffStrategy: taskBackoffStrategy },
  })
  class QueueProcessor extends WorkerHost {
    constructor(@Inject(TaskRunner) private readonly runner: TaskRunner) {
      super();
    }

    process(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
      return this.runner.run(job, queue, signal, token);
    }
  }
  Object.defineProperty(QueueProcessor, 'name', { value: `QueueProcessor[${queue}]` });
  return QueueProcessor;
}
