import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';

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
 * a PostgreSQL `NOTIFY` that every worker `LISTEN`s to, so it works on either queue transport.
 */
@Injectable()
export class ActiveTasks implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ActiveTasks.name);
  private readonly running = new Map<string, ActiveTask>();
  private listener: Client | null = null;
  private closed = false;

  constructor(private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    if (this.config.runsWorkers) await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
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

  private reconnectSoon(): void {
    if (this.closed) return;
    setTimeout(() => this.listen().catch(() => this.reconnectSoon()), 1000).unref();
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', (message) => {
      if (message.payload) this.abortLocal(message.payload, new TaskRevokedError());
    });
    client.on('error', (error) => {
      this.logger.warn(`Cancel listener lost its connection (${error.message}); reconnecting`);
      this.listener = null;
      client.end().catch(() => undefined);
      this.reconnectSoon();
    });
    await client.connect();
    await client.query(`LISTEN ${CANCEL_CHANNEL}`);
    this.listener = client;
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
