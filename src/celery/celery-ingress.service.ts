import {
  BeforeApplicationShutdown,
  HttpException,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { TaskRunStore } from '../tasks/records/task-run.store';
import { TaskRecordWriter } from '../tasks/run/task-record.writer';
import { TaskRegistry } from '../tasks/task-registry.service';
import { SubmitRequest, TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { isFinal, TaskState } from '../tasks/task-state';
import { CeleryConnections } from './celery-connections';
import { CeleryMessageError, CeleryTaskMessage, decodeCeleryMessage } from './celery-message';
import { celeryException } from './celery-result';
import { CeleryRefusal, toSubmitRequest } from './celery-task-mapper';
import { CeleryResultMirror } from './celery-result-mirror.service';
import { CeleryRevoker } from './celery-revoker';
import { CeleryTracker } from './celery-tracker';
import { Delivery } from './kombu-redis-consumer';

interface Accepted {
  delivery: Delivery;
  message: CeleryTaskMessage;
  request: SubmitRequest;
}

/**
 * The Celery ingress's consumer: takes Celery messages from the old broker's queues, submits
 * each as a task whose record id is the Celery task id, and acks the messages once their records
 * are committed (a message delivered twice is one record, run once). A call that cannot run
 * (unregistered name, arguments that do not fit, canvas) ends FAILURE in the result backend, as
 * a Celery worker would report it.
 */
@Injectable()
export class CeleryIngress implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(CeleryIngress.name);
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private restoreTimer?: NodeJS.Timeout;
  private owner: string | null = null;
  private ownerWarned = false;

  constructor(
    private readonly connections: CeleryConnections,
    private readonly tracker: CeleryTracker,
    private readonly registry: TaskRegistry,
    private readonly submission: TaskSubmissionService,
    private readonly writer: TaskRecordWriter,
    private readonly dataSource: DataSource,
    private readonly records: TaskRunStore,
    private readonly control: CeleryRevoker,
    private readonly results: CeleryResultMirror,
  ) {}

  onApplicationBootstrap(): void {
    const consumer = this.connections.consumer;
    const visibilityS = this.connections.settings.CELERY_VISIBILITY_TIMEOUT;
    // As kombu's workers do, look for what a dead consumer held at start and then now and again.
    const every = Math.min(10_000, Math.max(1000, (visibilityS * 1000) / 2));
    const restore = () =>
      consumer
        .restoreVisible()
        .then((n) => n > 0 && this.logger.warn(`Restored ${n} Celery message(s) a dead consumer had taken`))
        .catch((error) => this.logger.warn(`Could not restore unacked Celery messages: ${error.message}`));
    // Not awaited: a broker that is down must not hold up the boot (its commands wait for it).
    void restore();
    this.restoreTimer = setInterval(restore, every);
    this.running = true;
    this.loop = this.consume();
    this.logger.log({
      msg: 'Celery ingress consuming',
      queues: this.connections.queues,
      node: this.connections.nodeName,
    });
  }

  /** Stops taking messages as soon as the process starts to drain; what it holds goes back. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.restoreTimer);
    await this.loop;
    await this.connections.consumer.restoreHeld().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
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
    let accepted: Accepted[] = [];
    const done: Delivery[] = [];
    for (const delivery of deliveries) {
      let message: CeleryTaskMessage | null = null;
      try {
        message = decodeCeleryMessage(delivery.raw);
        if (this.tracker.isRevoked(message.id)) {
          void this.results.store(message.id, 'REVOKED', celeryException('TaskRevokedError', 'revoked'));
        } else if (message.expires && message.expires.getTime() <= Date.now()) {
          void this.results.store(message.id, 'REVOKED', celeryException('TaskRevokedError', 'expired'));
        } else {
          const request = toSubmitRequest(message, this.registry.get(message.task), this.owner!);
          accepted.push({ delivery, message, request });
          continue;
        }
      } catch (error) {
        this.refuse(error, message);
      }
      done.push(delivery);
    }
    accepted = await this.withoutKnownRedeliveries(accepted);
    try {
      await this.submit(accepted);
    } catch (error) {
      // The records could not be committed: the messages go back to their queues for a later try.
      await consumer.restore(accepted.map((a) => a.delivery.tag));
      await consumer.ack(done.map((d) => d.tag));
      throw error;
    }
    await consumer.ack(deliveries.map((d) => d.tag));
  }

  /**
   * A redelivered message (its consumer died before the ack) may already have its record: that
   * task exists and runs or ran once, so the message is only acked. A finished one has its result
   * written again, since the consumer may have died after committing the record but before that.
   */
  private async withoutKnownRedeliveries(accepted: Accepted[]): Promise<Accepted[]> {
    const redelivered = accepted.filter((a) => a.message.redelivered).map((a) => a.request.id!);
    if (redelivered.length === 0) return accepted;
    const known = await this.records.knownRuns(redelivered);
    for (const run of known.values()) if (isFinal(run.state)) void this.results.republish(run);
    return accepted.filter((a) => !known.has(a.request.id!));
  }

  private async submit(accepted: Accepted[]): Promise<void> {
    if (accepted.length === 0) return;
    // Tracked first: the writer may commit a state of these tasks before submitMany returns.
    for (const { message } of accepted) this.tracker.accepted(message);
    try {
      await this.submission.submitMany(accepted.map((a) => a.request));
    } catch (error) {
      if (!(error instanceof HttpException) || error.getStatus() >= 500) {
        for (const { message } of accepted) this.tracker.forget(message.id);
        throw error;
      }
      // One call the mapper passed was still refused: submit one by one to fail only that one.
      for (const { message, request } of accepted) {
        await this.submission.submitByName(request).catch((refused) => {
          if (!(refused instanceof HttpException) || refused.getStatus() >= 500) throw refused;
          this.tracker.forget(message.id);
          this.refuse(new CeleryRefusal('ValueError', refused.message), message);
        });
      }
    }
    for (const { message } of accepted) if (message.expires) this.expireLater(message.id, message.expires);
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
    if (id) void this.results.store(id, 'FAILURE', celeryException(type, reason));
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
      if (this.ownerWarned) return false;
      this.ownerWarned = true;
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
