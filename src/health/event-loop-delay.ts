import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const WINDOW_MS = 10_000;

/**
 * The worst event-loop delay over the last ~10 s window. A probe answered at all proves the
 * loop runs now; this catches a loop that keeps stalling for long stretches (a CPU-bound
 * handler on the main thread), which Kubernetes should restart.
 */
export class EventLoopDelayMonitor {
  private histogram: IntervalHistogram | null = null;
  private previousMaxMs = 0;
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    if (this.histogram) return;
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.previousMaxMs = this.currentMaxMs();
      this.histogram?.reset();
    }, WINDOW_MS).unref();
  }

  stop(): void {
    this.histogram?.disable();
    if (this.timer) clearInterval(this.timer);
    this.histogram = null;
  }

  /** Max delay (ms) over the current and the previous window. */
  maxDelayMs(): number {
    return Math.max(this.previousMaxMs, this.currentMaxMs());
  }

  private currentMaxMs(): number {
    const max = this.histogram?.max ?? 0;
    // An empty histogram reports a huge max; treat "no samples yet" as no delay.
    return this.histogram && this.histogram.count > 0 ? max / 1e6 : 0;
  }
}
