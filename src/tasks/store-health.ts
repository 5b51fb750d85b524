import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/database-unavailable';

/** The two stores the platform depends on. */
export type Store = 'database' | 'transport';

type Probe = () => Promise<unknown>;
type Listener = (store: Store, up: boolean) => void;

const PROBE_INTERVAL_MS = 1000;

/**
 * Whether the database and the queue transport are reachable, as last seen by whoever used
 * them (the record writer, submission, the enqueuer). Shared so that the log says once that a
 * store went down and once that it is back, readiness can name it, and callers skip a store
 * known to be down instead of waiting on it. While a store is down a registered probe checks
 * it every second, so recovery is noticed even when no traffic touches it.
 */
@Injectable()
export class StoreHealth implements OnApplicationShutdown {
  private readonly logger = new Logger(StoreHealth.name);
  private readonly down = new Map<Store, { since: Date; reason: string }>();
  private readonly probes = new Map<Store, Probe>();
  private readonly listeners = new Set<Listener>();
  private readonly timers = new Map<Store, NodeJS.Timeout>();

  /** True while `store` is believed unreachable. */
  isDown(store: Store): boolean {
    return this.down.has(store);
  }

  /** When and why `store` went down, or undefined while it is up. */
  outage(store: Store): { since: Date; reason: string } | undefined {
    return this.down.get(store);
  }

  /** Records a failure that means `store` is unreachable; logs only on the transition. */
  markDown(store: Store, error: unknown): void {
    if (this.down.has(store)) return;
    const reason = error instanceof Error ? error.message : String(error);
    this.down.set(store, { since: new Date(), reason });
    this.logger.error({ msg: `The ${store} is unreachable`, store, reason });
    this.listeners.forEach((l) => l(store, false));
    this.startProbing(store);
  }

  /** Records a success against `store`; logs only on the transition. */
  markUp(store: Store): void {
    const outage = this.down.get(store);
    if (!outage) return;
    this.down.delete(store);
    clearTimeout(this.timers.get(store));
    this.timers.delete(store);
    const downMs = Date.now() - outage.since.getTime();
    this.logger.log({ msg: `The ${store} is reachable again`, store, downMs });
    this.listeners.forEach((l) => l(store, true));
  }

  /** Runs a database step, marking the database up when it succeeds and down when it finds it unreachable. */
  async database<T>(step: () => Promise<T>): Promise<T> {
    try {
      const result = await step();
      this.markUp('database');
      return result;
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.markDown('database', error);
      throw error;
    }
  }

  /** Registers how to check `store` while it is down (one probe per store; the last one wins). */
  setProbe(store: Store, probe: Probe): void {
    this.probes.set(store, probe);
  }

  /** Called on every transition, down (`up` false) or back up. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onApplicationShutdown(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
  }

  private startProbing(store: Store): void {
    const probe = this.probes.get(store);
    if (!probe || this.timers.has(store)) return;
    const tick = () => {
      void probe().then(
        () => this.markUp(store),
        () => {
          if (this.down.has(store)) this.timers.set(store, setTimeout(tick, PROBE_INTERVAL_MS).unref());
        },
      );
    };
    this.timers.set(store, setTimeout(tick, PROBE_INTERVAL_MS).unref());
  }
}
