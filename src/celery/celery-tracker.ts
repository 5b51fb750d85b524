import { Injectable } from '@nestjs/common';
import { TaskState } from '../tasks/task-state';
import { CeleryTaskMessage } from './celery-message';

/** A Celery call this process took from the broker, kept until it finishes (for inspect). */
export interface TrackedCall {
  message: CeleryTaskMessage;
  state: TaskState;
  receivedAt: number;
}

// Celery keeps revoked ids this long (REVOKE_EXPIRES), so a revoke can precede its message.
const REVOKED_KEEP_MS = 3 * 3600_000;
const REVOKED_MAX = 50_000;
const FINAL = new Set<string>([TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED]);

/**
 * What this process knows about the Celery calls it took: the open ones with their arguments
 * (`inspect active/reserved/scheduled`), counts by task name (`inspect stats`) and the ids
 * revoked before or while they arrive.
 */
@Injectable()
export class CeleryTracker {
  private readonly open = new Map<string, TrackedCall>();
  private readonly revoked = new Map<string, number>();
  readonly totals = new Map<string, number>();
  readonly startedAt = Date.now();

  accepted(message: CeleryTaskMessage): void {
    this.open.set(message.id, { message, state: TaskState.PENDING, receivedAt: Date.now() });
    this.totals.set(message.task, (this.totals.get(message.task) ?? 0) + 1);
  }

  forget(id: string): void {
    const call = this.open.get(id);
    if (!call) return;
    this.open.delete(id);
    this.totals.set(call.message.task, (this.totals.get(call.message.task) ?? 1) - 1);
  }

  has(id: string): boolean {
    return this.open.has(id);
  }

  get(id: string): TrackedCall | undefined {
    return this.open.get(id);
  }

  stateOf(id: string): TaskState | undefined {
    return this.open.get(id)?.state;
  }

  stateChanged(id: string, state: TaskState | string): void {
    const call = this.open.get(id);
    if (!call) return;
    if (FINAL.has(state)) this.open.delete(id);
    else call.state = state as TaskState;
  }

  /** Open calls in a state, e.g. PENDING ones (waiting in our queues). */
  list(state?: TaskState): TrackedCall[] {
    return [...this.open.values()].filter((c) => !state || c.state === state);
  }

  markRevoked(id: string): void {
    if (this.revoked.size >= REVOKED_MAX) this.revoked.delete(this.revoked.keys().next().value as string);
    this.revoked.set(id, Date.now() + REVOKED_KEEP_MS);
  }

  isRevoked(id: string): boolean {
    const until = this.revoked.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.revoked.delete(id);
    return false;
  }

  revokedIds(): string[] {
    return [...this.revoked.keys()].filter((id) => this.isRevoked(id));
  }
}
