import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TaskError } from '../tasks/records/entities/task-run.entity';
import { KnownRun, TaskRunStore } from '../tasks/records/task-run.store';
import { TaskRecordWriter, TaskRunPatch } from '../tasks/run/task-record.writer';
import { TaskState } from '../tasks/task-state';
import { CeleryConnections } from './celery-connections';
import { CeleryState, exceptionOf, resultMeta } from './celery-result';
import { CeleryTracker } from './celery-tracker';

const MIRRORED = new Set<string>([
  TaskState.STARTED,
  TaskState.RETRY,
  TaskState.SUCCESS,
  TaskState.FAILURE,
  TaskState.REVOKED,
]);

/**
 * Mirrors the states of Celery tasks to Celery's result backend as this process's record writer
 * commits them, so the process that ran a task writes its result. Tasks submitted over REST
 * are left out: a task is a Celery one if this process took it from the broker, or else if its
 * record's request id says so (another process's ingress submitted it).
 */
@Injectable()
export class CeleryResultMirror implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CeleryResultMirror.name);
  private unsubscribe?: () => void;

  constructor(
    private readonly connections: CeleryConnections,
    private readonly tracker: CeleryTracker,
    private readonly writer: TaskRecordWriter,
    private readonly records: TaskRunStore,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.writer.onCommitted((changes) => void this.mirror(changes));
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  /** Writes one state of task `id` (resolves once written; failures are logged by the backend). */
  store(id: string, state: CeleryState, result: unknown, traceback: string | null = null): Promise<void> {
    return this.connections.backend.store(id, resultMeta(id, state, result, traceback));
  }

  private async mirror(changes: [string, TaskRunPatch][]): Promise<void> {
    const relevant = changes.filter(([, patch]) => patch.state && MIRRORED.has(patch.state));
    if (relevant.length === 0) return;
    const celery = await this.celeryIds(relevant.map(([id]) => id).filter((id) => !this.tracker.has(id)));
    for (const [id, patch] of relevant) {
      if (!this.tracker.has(id) && !celery.has(id)) continue;
      const state = patch.state as CeleryState;
      this.tracker.stateChanged(id, state);
      void this.write(id, state, patch.result, patch.error);
    }
  }

  /**
   * Writes a finished task's outcome again: a consumer that died between committing the record
   * and writing the result leaves its caller without one, and the redelivery finds the record.
   */
  republish(run: KnownRun): Promise<void> {
    return this.write(run.id, run.state as CeleryState, run.result, run.error);
  }

  private write(id: string, state: CeleryState, result: unknown, error: TaskError | null | undefined): Promise<void> {
    if (state === 'SUCCESS') return this.store(id, state, result ?? null);
    if (state === 'STARTED') return this.store(id, state, { pid: process.pid, hostname: this.connections.nodeName });
    return this.store(id, state, exceptionOf(error), error?.stack ?? null);
  }

  /** Which of `ids` (tasks this process did not take from the broker) are Celery calls. */
  private async celeryIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    try {
      return await this.records.idsWithRequestPrefix(ids, 'celery');
    } catch (error) {
      this.logger.warn(`Could not look up Celery tasks: ${error.message}`);
      return new Set();
    }
  }
}
