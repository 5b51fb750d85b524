import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { PgNotifications } from '../records/pg-notifications.service';

export const CANCEL_CHANNEL = 'task_cancel';

export interface ActiveTask {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  startedAt: Date;
  controller: AbortController;
}

/**
 * The tasks running in this process, and the way to abort one from any process: a cancel is
 * a PostgreSQL `NOTIFY` on {@link CANCEL_CHANNEL} that every worker listens to, so it works on
 * either queue transport.
 */
@Injectable()
export class ActiveTasks implements OnModuleInit {
  private readonly running = new Map<string, ActiveTask>();

  constructor(
    private readonly config: AppConfig,
    private readonly notifications: PgNotifications,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.runsWorkers)
      await this.notifications.subscribe(CANCEL_CHANNEL, (id) => this.abortLocal(id, new TaskRevokedError()));
  }

  add(task: ActiveTask): void {
    this.running.set(task.id, task);
  }

  remove(id: string): void {
    this.running.delete(id);
  }

  list(): Omit<ActiveTask, 'controller'>[] {
    return [...this.running.values()].map(({ controller: _, ...rest }) => rest);
  }

  /** Aborts the task if this process runs it. */
  abortLocal(id: string, reason: Error): boolean {
    const task = this.running.get(id);
    if (!task) return false;
    task.controller.abort(reason);
    return true;
  }
}

/** The reason a cancelled task's signal carries. */
export class TaskRevokedError extends Error {
  constructor() {
    super('The task was cancelled');
    this.name = 'TaskRevokedError';
  }
}

/** The reason a timed-out task's signal carries. */
export class TaskTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`The task did not finish within its timeout of ${timeoutMs} ms`);
    this.name = 'TaskTimeoutError';
  }
}
