import type { FieldError } from './field-errors';

/**
 * How deep a JSON value may nest. Deeper bodies are refused before anything walks them: the
 * validation pipe, class-transformer and JSON serialisation all recurse, and a body of a few
 * thousand nested arrays (20 kB) would otherwise overflow the stack and answer 500.
 */
export const MAX_JSON_DEPTH = 64;

// PostgreSQL stores neither U+0000 (text and jsonb) nor an unpaired surrogate escape (jsonb).
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(text: string, field: string): FieldError | undefined {
  if (NUL.test(text)) return { field, rule: 'noNulCharacter', message: `${field} must not contain U+0000 (NUL)` };
  if (LONE_SURROGATE.test(text))
    return { field, rule: 'isWellFormedUnicode', message: `${field} must not contain an unpaired UTF-16 surrogate` };
  return undefined;
}

/**
 * The field error for the first part of `value` (a parsed JSON body or query) the service
 * cannot take: nesting deeper than `maxDepth`, or a string or key holding NUL or an unpaired
 * surrogate. Fields are named by their top-level property (`root.key` when `root` is given).
 * Walks with its own stack, never recursion, so any depth is safe to check.
 */
export function jsonInputProblem(value: unknown, root?: string, maxDepth = MAX_JSON_DEPTH): FieldError | undefined {
  const rootName = root ?? 'body';
  const pending: { value: unknown; depth: number; field: string }[] = [{ value, depth: 0, field: rootName }];
  while (pending.length > 0) {
    const { value: current, depth, field } = pending.pop()!;
    if (typeof current === 'string') {
      const problem = stringProblem(current, field);
      if (problem) return problem;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) {
      return { field, rule: 'maxDepth', message: `${field} must not nest deeper than ${maxDepth} levels` };
    }
    const topLevelObject = depth === 0 && !Array.isArray(current);
    for (const [key, child] of Object.entries(current)) {
      // Below the top level the field stays the top-level property (a full path could be 64 deep).
      const childField = topLevelObject ? (root ? `${root}.${key}` : key || '""') : field;
      const keyProblem = stringProblem(key, childField);
      if (keyProblem) return keyProblem;
      pending.push({ value: child, depth: depth + 1, field: childField });
    }
  }
  return undefined;
}
