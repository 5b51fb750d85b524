import { VectorHit } from './vector-index';

/**
 * Share of the exact top k that the approximate answer matched (recall@k). Scores must be
 * exact for both lists. A hit outside the exact list still counts when it scores as well as the
 * exact k-th (within `tolerance`): with ties at the cut-off either chunk is a right answer.
 */
export function recallAtK(exact: VectorHit[], approximate: VectorHit[], tolerance = 1e-4): number {
  if (exact.length === 0) return 1;
  const inExact = new Set(exact.map((h) => `${h.fileId}:${h.ordinal}`));
  const cutOff = exact[exact.length - 1].score - tolerance;
  const matched = approximate.filter((h) => inExact.has(`${h.fileId}:${h.ordinal}`) || h.score >= cutOff).length;
  return Math.min(1, matched / exact.length);
}
