import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { TaskState } from './task-state';

/** Emitted by the worker runtime after an attempt's outcome is committed to the record. */
export interface TaskAttemptEvent {
  taskId: string;
  name: string;
  queue: string;
  attempt: number;
  /** SUCCESS, RETRY, FAILURE or REVOKED. */
  state: TaskState;
  runtimeMs: number;
}

/**
 * In-process notifications of task outcomes, for metrics and stats. Listeners must be cheap
 * and must not throw: they run on the worker's hot path.
 */
@Injectable()
export class TaskEvents extends EventEmitter {
  onAttemptFinished(listener: (event: TaskAttemptEvent) => void): void {
    this.on('attempt', listener);
  }

  emitAttemptFinished(event: TaskAttemptEvent): void {
    this.emit('attempt', event);
  }
}
