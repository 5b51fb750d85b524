/**
 * The bounds that make overflow impossible by construction. Every amount is a positive
 * integer of at most MAX_AMOUNT points, and the database refuses (CHECK) any balance above
 * MAX_BALANCE. Both are far below Number.MAX_SAFE_INTEGER (9.007e15), and PostgreSQL does the
 * arithmetic in bigint, so no intermediate value can lose precision or wrap around.
 */
export const MAX_AMOUNT = 1_000_000_000;
export const MAX_BALANCE = 1_000_000_000_000_000;

/** Longest caller-supplied idempotency key, reference and reason. */
export const MAX_KEY_LENGTH = 200;
export const MAX_REFERENCE_LENGTH = 200;
export const MAX_REASON_LENGTH = 500;

/**
 * Converts a bigint column (which `pg` returns as a string) to a number. The CHECK constraints
 * keep every stored value within ±MAX_BALANCE, so this never loses precision; a value outside
 * the safe range means the schema was bypassed and is refused loudly.
 */
export function toPoints(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`Stored points value ${String(value)} is not a safe integer`);
  return n;
}
