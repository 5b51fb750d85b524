/**
 * Polls `probe` until it returns a truthy value and returns that value; fails naming what it
 * waited for and the last error the probe threw. A failed `expect` inside the probe is not
 * retried: it fails at once, as that assertion, rather than as a timeout.
 */
export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
      last = null;
    } catch (error) {
      if (isFailedExpect(error)) throw error;
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last error: ${last}` : ''}`);
}

/**
 * Reads until `done` holds or `timeoutMs` has passed, and returns the last reading. The caller
 * asserts on it, so a condition that never came true fails as that assertion, showing what
 * was seen, instead of as a timeout.
 */
export async function lastReading<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await read();
  }
  return value;
}

/** Jest's assertion errors carry the matcher's result. */
function isFailedExpect(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'matcherResult' in error;
}
