import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SingletonLoop } from '../database/singleton-loop';
import { FinishedPosition, TaskRunStore } from '../tasks/records/task-run.store';
import { CeleryConnections } from './celery-connections';
import { CeleryResultMirror } from './celery-result-mirror.service';

// One repairer at a time across the ingress processes: a transaction-scoped advisory lock.
const LOCK_KEY = 0x7a5c_0004;
const INTERVAL_MS = 5000;
const BATCH = 2000;
/** How long a live mirror gets to write a result after its record commits before it is repaired. */
const GRACE_MS = 2000;
/**
 * Each pass looks again this far behind its place: a record's finish time is the worker's clock
 * at the finish, and a batch that waited for the database commits later than that.
 */
const OVERLAP_MS = 10_000;
/** Where a repairer without a stored place starts: this far back. */
const FIRST_LOOK_BACK_MS = 15 * 60_000;
const PLACE_KEY = 'task-service:celery-result-repair';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Writes the result of every finished Celery task whose result is missing from the backend.
 * The mirror writes results just after the worker commits the records, so a process that dies
 * in between (SIGKILL, OOM) leaves its callers waiting forever: the record says SUCCESS, the
 * result backend says nothing. This pass walks the Celery records in the order they finished,
 * from the place the last pass stored in the result backend, and writes what is missing.
 */
@Injectable()
export class CeleryResultRepair implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CeleryResultRepair.name);
  private readonly loop: SingletonLoop<number>;

  constructor(
    private readonly connections: CeleryConnections,
    private readonly records: TaskRunStore,
    private readonly mirror: CeleryResultMirror,
    dataSource: DataSource,
  ) {
    this.loop = new SingletonLoop({
      name: 'Celery result repair',
      logger: this.logger,
      intervalMs: INTERVAL_MS,
      lock: { dataSource, key: LOCK_KEY },
      pass: () => this.repair(),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
    this.loop.kick();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass; returns how many results it wrote (0 when another process holds the pass). */
  async repair(): Promise<number> {
    return (await this.loop.exclusive(() => this.catchUp())) ?? 0;
  }

  private async catchUp(): Promise<number> {
    const backend = this.connections.backend;
    const stored = await backend.read<FinishedPosition>(PLACE_KEY);
    // Results older than the backend's expiry are gone by design: never look back that far.
    const oldest = Date.now() - this.connections.settings.CELERY_RESULT_EXPIRES * 1000;
    const from = stored ? new Date(stored.finishedAt).getTime() - OVERLAP_MS : Date.now() - FIRST_LOOK_BACK_MS;
    let place: FinishedPosition = { finishedAt: new Date(Math.max(from, oldest)), id: NIL_UUID };
    const upTo = new Date(Date.now() - GRACE_MS);
    let repaired = 0;
    for (;;) {
      const runs = await this.records.finishedWithRequestPrefix('celery', place, upTo, BATCH);
      if (runs.length === 0) break;
      const missing = new Set(await backend.missing(runs.map((r) => r.id)));
      await Promise.all(runs.filter((r) => missing.has(r.id)).map((r) => this.mirror.republish(r)));
      repaired += missing.size;
      const last = runs[runs.length - 1];
      place = { finishedAt: last.finishedAt, id: last.id };
      await backend.write(PLACE_KEY, place);
      if (runs.length < BATCH) break;
    }
    if (repaired > 0) this.logger.warn(`Wrote ${repaired} Celery result(s) missing from the result backend`);
    return repaired;
  }
}
