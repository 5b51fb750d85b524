import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { BULL_BOARD_INSTANCE, BullBoardInstance } from '@bull-board/nestjs';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { TaskQueues } from '../tasks/task-queues.service';

/**
 * Adds every queue of the deployment to the board, the routed extras included, which the
 * static `BullBoardModule.forFeature` list could not know at import time.
 */
@Injectable()
export class DashboardQueues implements OnModuleInit {
  constructor(
    @Inject(BULL_BOARD_INSTANCE) private readonly board: BullBoardInstance,
    private readonly queues: TaskQueues,
  ) {}

  onModuleInit(): void {
    for (const queue of this.queues.all()) {
      // Read-only: task records are the source of truth, and a job added, removed or retried on
      // the board would bypass them (a removed job's PENDING record would even be re-enqueued by
      // the reconciler). Acting is done through the API and CLI: cancel, retry, pause, purge.
      this.board.addQueue(new BullMQAdapter(queue, { readOnlyMode: true }));
    }
  }
}
