import { setFlagsFromString } from 'node:v8';

/**
 * V8's own sizing, measured on this service (docs/benchmarks.md, "Memory per role"): start-up
 * allocates module sources and metadata fast enough for the young generation to double its
 * semi-spaces up to 16 MB each (32 MB kept committed by a process that then sits idle), and
 * under HTTP load the old generation is let grow to about three times its live set (~70 MB live,
 * 400 MB RSS). So the young generation is held at its 1 MB start size while the process starts
 * and old-generation growth is capped at 1.5× the live set.
 *
 * Both flags are read by V8 at each collection, so setting them at run time works. An operator
 * who sizes the heap on the command line or in NODE_OPTIONS keeps their choice.
 */
const SIZING_FLAGS = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor|heap-growing-percent)\b/;

/** Whether Node's flags (command line and NODE_OPTIONS) already size the heap. */
export function operatorSizesHeap(flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ')): boolean {
  // V8 takes --max_semi_space_size as well as --max-semi-space-size.
  return SIZING_FLAGS.test(flags.replace(/_/g, '-'));
}

export function holdHeapDuringStart(): void {
  if (operatorSizesHeap()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=50');
}

/**
 * Once started, a process that runs tasks gets V8's own sizing back: with 1 MB semi-spaces the
 * collector took 24–39% of a worker's CPU in the drain and I/O runs (7–15% with V8's default
 * growth), and 1.5× old-generation growth still kept it at 23% (500 running tasks promote their
 * state). An idle worker allocates too little to grow either generation. The api keeps both
 * held, which is what keeps its RSS under 200 MB at 200 connections; the price is collector
 * time (29% of its CPU under that load against 12%). An api that needs the requests per second
 * more than the memory is started with `--max-semi-space-size=16` (see docs/benchmarks.md).
 */
export function sizeHeapForRole(runsWorkers: boolean): void {
  if (operatorSizesHeap() || !runsWorkers) return;
  setFlagsFromString('--semi-space-growth-factor=2');
  setFlagsFromString('--heap-growing-percent=0');
}
