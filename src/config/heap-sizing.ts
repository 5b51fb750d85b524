import { setFlagsFromString } from 'node:v8';

/**
 * V8's own sizing, measured on this service (docs/benchmarks.md, "Memory per role"): start-up
 * allocates module sources and metadata fast enough for the young generation to double its
 * semi-spaces up to 16 MB each (32 MB kept committed by a process that then sits idle), and
 * under HTTP load the old generation is let grow to about three times its live set (~70 MB live,
 * 400 MB RSS). So the young generation is held at its 1 MB start size while the process starts
 * and old-generation growth is capped at 1.5× the live set.
 *
 * Both flags are read by V8 at each collection, so setting them at run time works (unlike
 * `--max-semi-space-size`, read once at start). An operator who sizes either generation on the
 * command line or in NODE_OPTIONS keeps that choice.
 */
const YOUNG_GENERATION_FLAGS = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;
const OLD_GENERATION_GROWTH_FLAGS = /--heap-growing-percent\b/;

function nodeFlags(): string {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
}

/**
 * Which of the two settings Node's flags (command line and NODE_OPTIONS) already make: each one
 * the operator sets is theirs, the other stays the service's. The api's manifest sets the young
 * generation (`--max-semi-space-size=4`) and keeps the service's old-generation cap.
 */
export function operatorSizing(flags = nodeFlags()): { youngGeneration: boolean; oldGenerationGrowth: boolean } {
  // V8 takes --max_semi_space_size as well as --max-semi-space-size.
  const dashed = flags.replace(/_/g, '-');
  return {
    youngGeneration: YOUNG_GENERATION_FLAGS.test(dashed),
    oldGenerationGrowth: OLD_GENERATION_GROWTH_FLAGS.test(dashed),
  };
}

export function holdHeapDuringStart(): void {
  const operator = operatorSizing();
  if (!operator.youngGeneration) setFlagsFromString('--semi-space-growth-factor=1');
  if (!operator.oldGenerationGrowth) setFlagsFromString('--heap-growing-percent=50');
}

/**
 * Once started, a process that runs tasks gets V8's own sizing back: with 1 MB semi-spaces the
 * collector took 24–39% of a worker's CPU in the drain and I/O runs (7–15% with V8's default
 * growth), and 1.5× old-generation growth still kept it at 23% (500 running tasks promote their
 * state). An idle worker allocates too little to grow either generation. The api keeps the
 * old-generation cap, which is what keeps its RSS under 200 MB at 200 connections. Its young
 * generation stays at 1 MB unless its start flags size it: V8 reads `--max-semi-space-size` only
 * when the process starts, so the api's manifest passes `--max-semi-space-size=4`, which gives
 * back most of the requests per second the 1 MB young generation cost (docs/benchmarks.md).
 */
export function sizeHeapForRole(runsWorkers: boolean): void {
  if (!runsWorkers) return;
  const operator = operatorSizing();
  if (!operator.youngGeneration) setFlagsFromString('--semi-space-growth-factor=2');
  if (!operator.oldGenerationGrowth) setFlagsFromString('--heap-growing-percent=0');
}
