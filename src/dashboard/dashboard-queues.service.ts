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
      // Task records are the source of truth; the board may retry and clean, never add jobs.
      this.board.addQueue(new BullMQAdapter(queue, { allowRetries: true, readOnlyMode: false }));
    }
  }
}
