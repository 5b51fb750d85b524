import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { TaskRunStore } from '../tasks/records/task-run.store';
import { TaskControlService } from '../tasks/run/task-control.service';
import { isFinal, TaskState } from '../tasks/task-state';
import { celeryException } from './celery-result';
import { CeleryResultMirror } from './celery-result-mirror.service';
import { CeleryTracker } from './celery-tracker';

/**
 * Celery's revoke on our cancel: a waiting task is removed and ends REVOKED; a running one is
 * aborted only with `terminate` (as in Celery, where a plain revoke lets a started task
 * finish); an id not seen yet is remembered, so its message ends REVOKED when it arrives.
 */
@Injectable()
export class CeleryRevoker {
  private readonly logger = new Logger(CeleryRevoker.name);

  constructor(
    private readonly results: CeleryResultMirror,
    private readonly tracker: CeleryTracker,
    private readonly control: TaskControlService,
    private readonly records: TaskRunStore,
  ) {}

  /** True when this call revoked the task (and wrote REVOKED to the result backend). */
  async revoke(id: string, terminate: boolean, reason = 'revoked'): Promise<boolean> {
    this.tracker.markRevoked(id);
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const run = await this.records.find(id.toLowerCase());
    if (!run || isFinal(run.state)) return false;
    if (run.state === TaskState.STARTED && !terminate) return false;
    try {
      const { pending } = await this.control.cancel(run);
      if (pending) return false;
    } catch (error) {
      // Another worker's ingress revoked it first, or it finished meanwhile.
      if (error instanceof ConflictException) return false;
      throw error;
    }
    this.tracker.stateChanged(run.id, TaskState.REVOKED);
    await this.results.store(run.id, 'REVOKED', celeryException('TaskRevokedError', reason));
    this.logger.log({ msg: 'Celery task revoked', taskId: run.id, task: run.name, reason, terminate });
    return true;
  }
}
