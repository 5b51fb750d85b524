/**
 * The runtime histogram of the task rollups (see the task_run_rollups migration): the bucket
 * numbering is `task_runtime_bucket()` in SQL; this side turns bucket counts back into
 * percentiles. Runtimes below 16 ms have a bucket each (exact); above, 4 buckets per doubling.
 */
const EXACT_BELOW_MS = 16;
const BUCKETS_PER_DOUBLING = 4;

/** The same numbering as the SQL function, for tests and seeding. */
export function runtimeBucket(ms: number): number {
  if (ms < EXACT_BELOW_MS) return Math.max(ms, 0);
  return EXACT_BELOW_MS + Math.floor(BUCKETS_PER_DOUBLING * Math.log2(ms / EXACT_BELOW_MS));
}

/** A bucket's representative runtime: its own value when exact, else its geometric midpoint. */
export function bucketValue(bucket: number): number {
  if (bucket < EXACT_BELOW_MS) return bucket;
  return EXACT_BELOW_MS * 2 ** ((bucket - EXACT_BELOW_MS + 0.5) / BUCKETS_PER_DOUBLING);
}

/**
 * The percentile `p` (0..1) of the runtimes counted in `histogram` (bucket → count), interpolated between neighbouring ranks as `percentile_cont` does.
 * Null when nothing has a runtime.
 */
export function histogramPercentile(histogram: Map<number, number>, p: number): number | null {
  const buckets = [...histogram.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const position = p * (total - 1);
  const valueAt = (rank: number): number => {
    let seen = 0;
    for (const [bucket, n] of buckets) {
      seen += n;
      if (rank < seen) return bucketValue(bucket);
    }
    return bucketValue(buckets[buckets.length - 1][0]);
  };
  const below = Math.floor(position);
  const low = valueAt(below);
  return low + (valueAt(Math.ceil(position)) - low) * (position - below);
}
