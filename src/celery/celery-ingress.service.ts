import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { TaskRecordWriter, TaskRunPatch } from '../tasks/task-record.writer';
import { TaskRegistry } from '../tasks/task-registry.service';
import { SubmitRequest, TaskSubmissionService } from '../tasks/task-submission.service';
import { TaskState } from '../tasks/task-state';
import { CeleryConnections } from './celery-connections';
import { CeleryMessageError, CeleryTaskMessage, decodeCeleryMessage } from './celery-message';
import { celeryException, CeleryState, exceptionOf, resultMeta } from './celery-result';
import { CeleryRefusal, toSubmitRequest } from './celery-task-mapper';
import { CeleryRevoker } from './celery-revoker';
import { CeleryTracker } from './celery-tracker';
import { Delivery } from './kombu-redis-consumer';

const MIRRORED = new Set<string>([
  TaskState.STARTED,
  TaskState.RETRY,
  TaskState.SUCCESS,
  TaskState.FAILURE,
  TaskState.REVOKED,
]);

/**
 * The Celery ingress's consumer: takes Celery messages from the old broker's queues, submits
 * each as a task whose record id is the Celery task id, and acks the messages once their records
 * are committed (a message delivered twice is one record, run once). A call that cannot run
 * (unregistered name, arguments that do not fit, canvas) ends FAILURE in the result backend, as
 * a Celery worker would report it. States of Celery tasks are mirrored to the result backend as
 * the record writer commits them, by the process that ran the task.
 */
@Injectable()
export class CeleryIngress implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CeleryIngress.name);
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private restoreTimer?: NodeJS.Timeout;
  private owner: string | null = null;
  private unsubscribe?: () => void;

  constructor(
    private readonly connections: CeleryConnections,
    private readonly tracker: CeleryTracker,
    private readonly registry: TaskRegistry,
    private readonly submission: TaskSubmissionService,
    private readonly writer: TaskRecordWriter,
    private readonly dataSource: DataSource,
    private readonly control: CeleryRevoker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.writer.onCommitted((changes) => void this.mirror(changes));
    const consumer = this.connections.consumer;
    const visibilityS = this.connections.settings.CELERY_VISIBILITY_TIMEOUT;
    // As kombu's workers do, look for what a dead consumer held at start and then now and again.
    const every = Math.min(10_000, Math.max(1000, (visibilityS * 1000) / 2));
    const restore = () =>
      consumer
        .restoreVisible()
        .then((n) => n > 0 && this.logger.warn(`Restored ${n} Celery message(s) a dead consumer had taken`))
        .catch((error) => this.logger.warn(`Could not restore unacked Celery messages: ${error.message}`));
    await restore();
    this.restoreTimer = setInterval(restore, every);
    this.running = true;
    this.loop = this.consume();
    this.logger.log({
      msg: 'Celery ingress consuming',
      queues: this.connections.queues,
      node: this.connections.nodeName,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.restoreTimer);
    await this.loop;
    this.unsubscribe?.();
    await this.connections.consumer.restoreHeld().catch(() => undefined);
    // States committed during the drain still reach the result backend before it closes.
    await this.writer.flush().catch(() => undefined);
    await this.connections.backend.drain();
    await this.connections.close();
  }

  private async consume(): Promise<void> {
    const consumer = this.connections.consumer;
    const prefetch = this.connections.settings.CELERY_PREFETCH;
    while (this.running) {
      try {
        if (!(await this.resolveOwner())) {
          await sleep(1000);
          continue;
        }
        const deliveries = await consumer.take(prefetch, 1);
        if (deliveries.length > 0) await this.handle(deliveries);
      } catch (error) {
        if (!this.running) break;
        this.logger.warn(`Celery ingress: ${error.message}; retrying in 1 s`);
        await sleep(1000);
      }
    }
  }

  /** Submits a batch: one insert and one enqueue per queue for every call that can run. */
  private async handle(deliveries: Delivery[]): Promise<void> {
    const consumer = this.connections.consumer;
    const requests: SubmitRequest[] = [];
    const accepted: { delivery: Delivery; message: CeleryTaskMessage }[] = [];
    const done: Delivery[] = [];
    for (const delivery of deliveries) {
      let message: CeleryTaskMessage | null = null;
      try {
        message = decodeCeleryMessage(delivery.raw);
        if (this.tracker.isRevoked(message.id)) {
          this.storeState(message.id, 'REVOKED', celeryException('TaskRevokedError', 'revoked'));
        } else if (message.expires && message.expires.getTime() <= Date.now()) {
          this.storeState(message.id, 'REVOKED', celeryException('TaskRevokedError', 'expired'));
        } else {
          requests.push(toSubmitRequest(message, this.registry.get(message.task), this.owner!));
          accepted.push({ delivery, message });
          continue;
        }
      } catch (error) {
        this.refuse(error, message);
      }
      done.push(delivery);
    }
    if (requests.length > 0) {
      // Tracked first: the writer may commit a state of these tasks before submitMany returns.
      for (const { message } of accepted) this.tracker.accepted(message);
      try {
        await this.submission.submitMany(requests);
      } catch (error) {
        // The records could not be committed: the messages go back to their queues for a later try.
        for (const { message } of accepted) this.tracker.forget(message.id);
        await consumer.restore(accepted.map((a) => a.delivery.tag));
        await consumer.ack(done.map((d) => d.tag));
        throw error;
      }
      for (const { message } of accepted) if (message.expires) this.expireLater(message.id, message.expires);
    }
    await consumer.ack(deliveries.map((d) => d.tag));
  }

  /** `expires`: a task that has not started by then is revoked, as a Celery worker would. */
  private expireLater(id: string, expires: Date): void {
    const timer = setTimeout(
      () => {
        if (this.tracker.stateOf(id) !== TaskState.PENDING) return;
        void this.control
          .revoke(id, false, 'expired')
          .catch((error) => this.logger.warn(`Could not expire Celery task ${id}: ${error.message}`));
      },
      Math.min(expires.getTime() - Date.now(), 2 ** 31 - 1),
    );
    timer.unref();
  }

  private refuse(error: unknown, message: CeleryTaskMessage | null): void {
    const id = message?.id ?? (error instanceof CeleryMessageError ? error.id : null);
    const task = message?.task ?? (error instanceof CeleryMessageError ? error.task : null);
    const type =
      error instanceof CeleryRefusal
        ? error.excType
        : error instanceof CeleryMessageError
          ? error.excType
          : 'Exception';
    const reason = (error as Error).message;
    this.logger.warn({ msg: 'Celery message refused', taskId: id, task, reason });
    if (id) this.storeState(id, 'FAILURE', celeryException(type, reason));
  }

  private storeState(id: string, state: CeleryState, result: unknown, traceback: string | null = null): void {
    void this.connections.backend.store(id, resultMeta(id, state, result, traceback));
  }

  /** Mirrors committed state changes of Celery tasks to the result backend. */
  private async mirror(changes: [string, TaskRunPatch][]): Promise<void> {
    const relevant = changes.filter(([, patch]) => patch.state && MIRRORED.has(patch.state));
    if (relevant.length === 0) return;
    const unknown = relevant.filter(([id]) => !this.tracker.has(id)).map(([id]) => id);
    // A task this process did not take from the broker may still be a Celery one (another
    // process's ingress submitted it): the record's request id says so.
    const celery = new Set<string>();
    if (unknown.length > 0) {
      try {
        const rows: { id: string }[] = await this.dataSource.query(
          `SELECT id FROM task_runs WHERE id = ANY($1::uuid[]) AND request_id LIKE 'celery%'`,
          [unknown],
        );
        rows.forEach((r) => celery.add(r.id));
      } catch (error) {
        this.logger.warn(`Could not look up Celery tasks: ${error.message}`);
      }
    }
    for (const [id, patch] of relevant) {
      if (!this.tracker.has(id) && !celery.has(id)) continue;
      const state = patch.state as CeleryState;
      this.tracker.stateChanged(id, state);
      if (state === 'SUCCESS') this.storeState(id, state, patch.result ?? null);
      else if (state === 'STARTED')
        this.storeState(id, state, { pid: process.pid, hostname: this.connections.nodeName });
      else this.storeState(id, state, exceptionOf(patch.error), patch.error?.stack ?? null);
    }
  }

  /** The API key Celery tasks belong to: CELERY_OWNER_KEY_ID, or the oldest active admin key. */
  private async resolveOwner(): Promise<boolean> {
    if (this.owner) return true;
    const configured = this.connections.settings.CELERY_OWNER_KEY_ID;
    const rows: { id: string }[] = configured
      ? await this.dataSource.query(`SELECT id FROM api_keys WHERE id = $1 AND revoked_at IS NULL`, [configured])
      : await this.dataSource.query(
          `SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL ORDER BY created_at LIMIT 1`,
        );
    if (rows.length === 0) {
      this.logger.warn(
        configured
          ? `CELERY_OWNER_KEY_ID ${configured} is not an active API key; Celery messages wait`
          : 'No admin API key exists yet to own Celery tasks; Celery messages wait',
      );
      return false;
    }
    this.owner = rows[0].id;
    return true;
  }
}
