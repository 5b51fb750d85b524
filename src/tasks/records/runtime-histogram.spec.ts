import { bucketValue, histogramPercentile, runtimeBucket } from './runtime-histogram';

/** The percentiles GET /stats reads from the rollups' runtime histogram. */
describe('runtime histogram', () => {
  const histogramOf = (runtimes: number[]) => {
    const histogram = new Map<number, number>();
    for (const ms of runtimes) histogram.set(runtimeBucket(ms), (histogram.get(runtimeBucket(ms)) ?? 0) + 1);
    return histogram;
  };
  // percentile_cont: linear interpolation between the neighbouring ranks.
  const exact = (runtimes: number[], p: number) => {
    const sorted = [...runtimes].sort((a, b) => a - b);
    const position = p * (sorted.length - 1);
    const below = Math.floor(position);
    return sorted[below] + (sorted[Math.ceil(position)] - sorted[below]) * (position - below);
  };

  it('is exact below 16 ms, as percentile_cont', () => {
    const runtimes = [1, 2, 3, 5, 8, 13, 13, 15];
    for (const p of [0, 0.5, 0.95, 1]) expect(histogramPercentile(histogramOf(runtimes), p)).toBe(exact(runtimes, p));
  });

  it('stays within 10% of percentile_cont above', () => {
    const runtimes = Array.from({ length: 5000 }, (_, i) => Math.round(20 * Math.exp((i % 997) / 120)));
    for (const p of [0.5, 0.95, 0.99]) {
      const estimate = histogramPercentile(histogramOf(runtimes), p)!;
      expect(Math.abs(estimate / exact(runtimes, p) - 1)).toBeLessThan(0.1);
    }
  });

  it('puts every runtime in the bucket whose range holds it, and has nothing for no runtimes', () => {
    for (const ms of [16, 17, 100, 1000, 65_536, 2 ** 31 - 1]) {
      const bucket = runtimeBucket(ms);
      expect(bucketValue(bucket) / ms).toBeGreaterThan(0.89);
      expect(bucketValue(bucket) / ms).toBeLessThan(1.1);
    }
    expect(histogramPercentile(new Map(), 0.5)).toBeNull();
  });
});
