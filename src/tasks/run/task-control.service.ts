import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CANCEL_CHANNEL } from './active-tasks.service';
import { TaskRun } from '../records/entities/task-run.entity';
import { TaskRunStore } from '../records/task-run.store';
import { FINISHED_CHANNEL } from '../records/task-completions.service';
import { TaskQueues } from '../queues/task-queues.service';
import { TaskRegistry } from '../task-registry.service';
import { TaskEnqueuer } from '../submit/task-enqueuer';
import { isFinal, TaskState } from '../task-state';

const REVOKED_ERROR = { type: 'TaskRevokedError', message: 'The task was cancelled' };

/** Cancel and retry: the state changes a caller asks for after submitting. */
@Injectable()
export class TaskControlService {
  private readonly logger = new Logger(TaskControlService.name);

  constructor(
    private readonly queues: TaskQueues,
    private readonly registry: TaskRegistry,
    private readonly enqueuer: TaskEnqueuer,
    private readonly dataSource: DataSource,
    private readonly store: TaskRunStore,
  ) {}

  /**
   * Revokes a task. A waiting or delayed job is removed from its queue; an active one is aborted
   * through its signal on whichever worker holds it (a PostgreSQL NOTIFY reaches every worker).
   * `pending` is true when a non-abortable task was asked to stop and will record its own outcome.
   */
  async cancel(run: TaskRun): Promise<{ run: TaskRun; pending: boolean }> {
    if (isFinal(run.state)) throw new ConflictException(`Task ${run.id} has already finished with state ${run.state}`);
    const job = await this.queues.get(run.queue).getJob(run.id);
    const removed = job
      ? await job.remove().then(
          () => true,
          () => false,
        )
      : true;
    if (!removed) {
      // A job that cannot be removed is locked by a worker: abort it there.
      await this.dataSource.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, run.id]);
      // A task that is not abortable decides itself: it may still commit and end SUCCESS.
      if (this.registry.get(run.name)?.definition.abortable === false) {
        this.logger.log({ msg: 'Cancel requested', taskId: run.id, task: run.name, queue: run.queue });
        return { run, pending: true };
      }
    }
    await this.markRevoked([run.id]);
    this.logger.log({ msg: 'Task revoked', taskId: run.id, task: run.name, queue: run.queue, wasRunning: !removed });
    return { run: await this.store.findById(run.id), pending: false };
  }

  /** Runs a failed or revoked task again, as a fresh set of attempts under the same id. */
  async retry(run: TaskRun): Promise<TaskRun> {
    if (run.state !== TaskState.FAILURE && run.state !== TaskState.REVOKED) {
      throw new ConflictException(`Only FAILURE or REVOKED tasks can be retried; task ${run.id} is ${run.state}`);
    }
    // The old job keeps the id in the transport (failed jobs are retained); it must go first.
    await (await this.queues.get(run.queue).getJob(run.id))?.remove().catch(() => undefined);
    await this.store.resetForRetry(run.id, new Date());
    const fresh = await this.store.findById(run.id);
    await this.enqueuer.requeue(fresh);
    return fresh;
  }

  /** Marks open records REVOKED (cancel, purge). Finished ones keep their state. */
  async markRevoked(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const revoked = await this.store.markRevoked(ids, REVOKED_ERROR);
    for (let i = 0; i < revoked.length; i += 150) {
      await this.dataSource.query('SELECT pg_notify($1, $2)', [FINISHED_CHANNEL, revoked.slice(i, i + 150).join(',')]);
    }
    return revoked.length;
  }
}
