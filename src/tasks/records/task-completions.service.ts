import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { PgNotifications } from './pg-notifications.service';

/** The channel the record writer notifies (comma-separated ids) when tasks reach a final state. */
export const FINISHED_CHANNEL = 'task_finished';

/**
 * Lets an HTTP caller wait for a task to finish (`GET /tasks/:id?wait=`) without polling:
 * the record writer's batch update notifies the ids it finished. On shutdown every waiter is
 * woken, so long-polls answer with the current state instead of holding the drain up.
 */
@Injectable()
export class TaskCompletions implements OnModuleInit, BeforeApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private closing = false;

  constructor(
    private readonly config: AppConfig,
    private readonly notifications: PgNotifications,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.runsApi) return;
    await this.notifications.subscribe(FINISHED_CHANNEL, (payload) => {
      for (const id of payload.split(',')) this.waiters.get(id)?.forEach((wake) => wake());
    });
  }

  beforeApplicationShutdown(): void {
    this.releaseAll();
  }

  /** Wakes every waiter now, and every later one at once: the process is draining. */
  releaseAll(): void {
    this.closing = true;
    for (const set of this.waiters.values()) set.forEach((wake) => wake());
  }

  /**
   * Resolves when `id` is notified as finished or after `timeoutMs`. Call it before reading the
   * record, then read: a finish between the read and the wait cannot be missed that way.
   */
  waitFor(id: string, timeoutMs: number): { done: Promise<void>; cancel(): void } {
    let wake!: () => void;
    const done = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(wake, this.closing ? 0 : timeoutMs);
    const set = this.waiters.get(id) ?? new Set();
    set.add(wake);
    this.waiters.set(id, set);
    const cancel = () => {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(id);
    };
    void done.then(cancel);
    return { done, cancel };
  }
}
