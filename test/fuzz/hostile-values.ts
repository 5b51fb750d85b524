import fc from 'fast-check';
import { Schema } from './openapi-operations';

// Names that are properties of every plain object: a lookup by them into `{}` finds
// Object.prototype or one of its methods instead of "unknown".
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

const CONTROL_CHARACTERS = fc.string({
  unit: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 8,
});

const INVALID_DATES = [
  '2026-02-30',
  '2026-13-01',
  '2026-00-10',
  '0000-00-00T25:61:61Z',
  '275760-09-14T00:00:00.001Z',
  '-271821-04-19T00:00:00Z',
  '2026-11-01T00:00:00+99:99',
  'yesterday',
  '1e309',
  'NaN',
  'Infinity',
  '',
];

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\uD800',
  '\uDFFF\uD800',
  '\u202E\u200B\uFEFF',
  '%',
  '%00',
  '%FF',
  '../../etc/passwd',
  '${7*7}{{7*7}}',
  "'; DROP TABLE task_runs; --",
  '0x10',
  '-0',
  '1e309',
  'true',
  'null',
  '[]',
  '{}',
  '*',
  '**',
  'tasks.*',
];

/** Nested arrays or objects `depth` levels deep (the body parser's and validators' recursion). */
export function deeplyNested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = kind === 'array' ? [] : {};
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** A plain object whose own keys are prototype names (JSON.parse makes them own properties). */
function prototypeKeyed(inner: unknown): unknown {
  return JSON.parse(`{${PROTOTYPE_KEYS.map((key) => `"${key}": ${JSON.stringify(inner)}`).join(',')}}`);
}

/** Numbers at and just past the schema's limits, and the ones JavaScript gets wrong. */
function edgeNumbers(schema: Schema): number[] {
  const limits = [schema.minimum, schema.maximum].filter((n): n is number => typeof n === 'number');
  return [
    ...limits.flatMap((n) => [n, n - 1, n + 1, n + 0.5]),
    0,
    -1,
    0.1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53 + 2,
    2 ** 64,
    1e308,
    -1e308,
    Number.MIN_VALUE,
  ];
}

/** Any JSON value of the wrong kind, shape or size for a field of `schema`. */
export function hostileJsonValue(schema: Schema): fc.Arbitrary<unknown> {
  const maxLength = schema.maxLength ?? 200;
  return fc.oneof(
    fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, '', [], {}, [[]], [null], [{}]),
    fc.constantFrom(...PROTOTYPE_KEYS),
    fc.constantFrom(...ODD_STRINGS, ...INVALID_DATES),
    CONTROL_CHARACTERS,
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('x'.repeat(maxLength), 'x'.repeat(maxLength + 1), '文'.repeat(maxLength + 1), 'y'.repeat(100_000)),
    fc.constantFrom(...edgeNumbers(schema)),
    fc.constantFrom(deeplyNested(5, 'array'), deeplyNested(64, 'array'), deeplyNested(2000, 'array')),
    fc.constantFrom(deeplyNested(64, 'object'), deeplyNested(2000, 'object')),
    // An object where an array is expected, and arrays where an object is expected.
    fc.constantFrom<unknown>({ 0: 'a', length: 1 }, [{ a: 1 }, 'b'], new Array(2000).fill({})),
    fc.constantFrom(prototypeKeyed({ polluted: true }), prototypeKeyed('x'), prototypeKeyed([])),
    fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom(...PROTOTYPE_KEYS, 'a', ''), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  );
}

/** Text for a query, path or header parameter: raw (percent-encoded later) or pre-encoded. */
export interface HostileText {
  text: string;
  /** Already percent-encoded (e.g. `%FF`, invalid UTF-8): put in the URL as is. */
  encoded?: boolean;
}

export function hostileText(schema: Schema): fc.Arbitrary<HostileText> {
  const plain = fc.oneof(
    fc.constantFrom(...PROTOTYPE_KEYS, ...ODD_STRINGS.filter(Boolean), ...INVALID_DATES.filter(Boolean)),
    CONTROL_CHARACTERS,
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.constantFrom('x'.repeat(5000), '9'.repeat(400)),
    fc.constantFrom(...edgeNumbers(schema).map(String)),
  );
  return fc.oneof(
    { weight: 4, arbitrary: plain.map((text) => ({ text })) },
    // Invalid UTF-8 sequences, overlong NUL, a lone %.
    fc.constantFrom('%FF', '%C3%28', '%E2%82', '%C0%80', '%ED%A0%80', '%', '%%', '%zz').map((text) => ({
      text,
      encoded: true,
    })),
  );
}
