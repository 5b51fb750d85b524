import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { BULL_BOARD_INSTANCE, BullBoardInstance } from '@bull-board/nestjs';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { TaskJobData } from '../tasks/task-definition';
import { TaskQueues } from '../tasks/queues/task-queues.service';
import { TaskRegistry } from '../tasks/task-registry.service';
import { redactPaths } from '../tasks/records/task-view';

/**
 * Adds every queue of the deployment to the board, the routed extras included, which the
 * static `BullBoardModule.forFeature` list could not know at import time.
 */
@Injectable()
export class DashboardQueues implements OnModuleInit {
  constructor(
    @Inject(BULL_BOARD_INSTANCE) private readonly board: BullBoardInstance,
    private readonly queues: TaskQueues,
    private readonly registry: TaskRegistry,
  ) {}

  onModuleInit(): void {
    for (const queue of this.queues.all()) {
      // Read-only: task records are the source of truth, and a job added, removed or retried on
      // the board would bypass them (a removed job's PENDING record would even be re-enqueued by
      // the reconciler). Acting is done through the API and CLI: cancel, retry, pause, purge.
      const adapter = new BullMQAdapter(queue, { readOnlyMode: true });
      // The job carries its arguments, secrets included, to the worker; the board shows them
      // redacted. Its formatter sees the data without the job name, so every argument path that
      // any task of this queue declares sensitive is hidden (erring on the side of hiding).
      // Read when a job is shown: the registry binds its handlers after this hook may have run.
      adapter.setFormatter('data', (data: TaskJobData) =>
        data && typeof data === 'object' && data.args
          ? { ...data, args: redactPaths(data.args, this.sensitivePathsOf(queue.name)) }
          : data,
      );
      this.board.addQueue(adapter);
    }
  }

  private sensitivePathsOf(queue: string): string[] {
    const paths = this.registry
      .all()
      .filter((task) => task.queue === queue)
      .flatMap((task) => task.definition.sensitiveArgs ?? []);
    return [...new Set(paths)];
  }
}
