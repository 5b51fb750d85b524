import fc from 'fast-check';
import { hostileJsonValue, hostileText, HostileText } from './hostile-values';
import { OpenApiDocument, Operation, plausibleValue, resolveSchema, Schema } from './openapi-operations';

/** One request to send: everything plausible except the one target that is hostile. */
export interface FuzzCase {
  operation: Operation;
  /** What was made hostile, e.g. `body.options.delay`, `query.limit`, `body (raw)`. */
  target: string;
  pathParams: Record<string, HostileText>;
  query: [string, HostileText][];
  headers: Record<string, string>;
  /** A JSON value, or raw bytes with their content type. */
  body?: { json: unknown } | { raw: Buffer; contentType: string };
  /** Send with the client key instead of the admin key. */
  asClient: boolean;
}

// A well-formed id nobody has: the other fields' checks run, and the lookup answers 404.
const ABSENT_ID = '00000000-0000-4000-8000-000000000000';

function plausibleParameter(name: string, schema: Schema, doc: OpenApiDocument): HostileText {
  if (/id$/i.test(name)) return { text: ABSENT_ID };
  if (name === 'name') return { text: 'default' };
  return { text: String(plausibleValue(schema, doc)) };
}

/** Every place of an operation a hostile value can go, one level into nested objects. */
export function targetsOf(operation: Operation, doc: OpenApiDocument): string[] {
  const targets = operation.parameters.map((p) => `${p.in}.${p.name}`);
  if (!operation.body) return targets;
  targets.push('body', 'body (raw)');
  const visit = (schema: Schema, prefix: string, depth: number) => {
    const s = resolveSchema(schema, doc);
    for (const [name, child] of Object.entries(s.properties ?? {})) {
      targets.push(`${prefix}.${name}`);
      if (depth > 0) continue;
      const resolved = resolveSchema(child, doc);
      if (resolved.properties) visit(resolved, `${prefix}.${name}`, depth + 1);
      if (resolved.type === 'array' && resolveSchema(resolved.items, doc).properties)
        visit(resolveSchema(resolved.items, doc), `${prefix}.${name}.0`, depth + 1);
    }
  };
  visit(operation.body, 'body', 0);
  return targets;
}

function schemaAt(root: Schema, path: string[], doc: OpenApiDocument): Schema {
  let schema = resolveSchema(root, doc);
  for (const key of path) {
    schema = resolveSchema(/^\d+$/.test(key) ? schema.items : schema.properties?.[key], doc);
  }
  return schema;
}

/** Sets `value` at `path` inside `target`, creating plausible parents on the way. */
function setAt(target: Record<string, unknown>, path: string[], value: unknown, root: Schema, doc: OpenApiDocument) {
  let node: Record<string, unknown> = target;
  path.slice(0, -1).forEach((key, i) => {
    const current = node[key];
    if (current === null || typeof current !== 'object') {
      const parent = plausibleValue(schemaAt(root, path.slice(0, i + 1), doc), doc);
      node[key] = parent && typeof parent === 'object' ? parent : {};
    }
    node = node[key] as Record<string, unknown>;
  });
  // defineProperty: a hostile key such as `__proto__` becomes an own property, as JSON.parse makes it.
  Object.defineProperty(node, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
}

const INVALID_UTF8 = [Buffer.from([0xff, 0xfe]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80])];

const OVERSIZED_BODY = Buffer.from(`{"x":"${'y'.repeat(6 * 1024 * 1024)}"}`);

/** Whole bodies that are not the JSON object the operation takes. */
function rawBodies(): fc.Arbitrary<{ raw: Buffer; contentType: string }> {
  const json = (text: string | Buffer) => ({
    raw: Buffer.isBuffer(text) ? text : Buffer.from(text),
    contentType: 'application/json',
  });
  return fc.oneof(
    fc.constantFrom('', '{', '{"a":', 'null', '[]', '"x"', '1', 'true', '{"a":1}}', '\u0000').map(json),
    fc
      .constantFrom(...INVALID_UTF8)
      .map((bytes) => json(Buffer.concat([Buffer.from('{"name":"'), bytes, Buffer.from('"}')]))),
    fc.constant(json(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)),
    fc.constant(json(`{"a":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_001)}`)),
    fc.constant(json(`{"a":${'['.repeat(5000)}`)),
    // Past the 5 MB body limit.
    fc.constant(json(OVERSIZED_BODY)),
    fc
      .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data')
      .map((contentType) => ({ raw: Buffer.from('name=x&a[b]=c'), contentType })),
  );
}

/** The cases for one target of one operation: `count` hostile values, drawn from `seed`. */
export function casesFor(
  operation: Operation,
  target: string,
  doc: OpenApiDocument,
  seed: number,
  count: number,
): FuzzCase[] {
  const [kind, ...path] = target.split('.');
  const base = (): FuzzCase => ({
    operation,
    target,
    pathParams: Object.fromEntries(
      operation.parameters
        .filter((p) => p.in === 'path')
        .map((p) => [p.name, plausibleParameter(p.name, p.schema, doc)]),
    ),
    query: [],
    headers: {},
    body: operation.body ? { json: structuredClone(plausibleValue(operation.body, doc)) } : undefined,
    asClient: false,
  });
  const parameter = operation.parameters.find((p) => `${p.in}.${p.name}` === target);
  let arbitrary: fc.Arbitrary<(c: FuzzCase) => void>;
  if (parameter) {
    arbitrary = fc.tuple(hostileText(parameter.schema), fc.boolean()).map(([value, repeated]) => (c: FuzzCase) => {
      if (parameter.in === 'path') c.pathParams[parameter.name] = value;
      else if (parameter.in === 'query') {
        c.query.push([parameter.name, value]);
        // The same name twice: Express hands the route an array.
        if (repeated) c.query.push([parameter.name, value]);
      } else {
        // HTTP forbids control characters in header values: Node's parser answers 400 and closes
        // the connection before the app sees the request, so only the rest is worth sending.
        c.headers[parameter.name] = value.text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
      }
    });
  } else if (target === 'body (raw)') {
    arbitrary = rawBodies().map((raw) => (c: FuzzCase) => (c.body = raw));
  } else if (target === 'body') {
    arbitrary = hostileJsonValue({}).map((json) => (c: FuzzCase) => (c.body = { json }));
  } else {
    const fieldSchema = schemaAt(operation.body!, path, doc);
    arbitrary = hostileJsonValue(fieldSchema).map((value) => (c: FuzzCase) => {
      const json = c.body && 'json' in c.body ? c.body.json : {};
      const root = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
      setAt(root, path, value, operation.body!, doc);
      c.body = { json: root };
    });
  }
  if (kind === 'header' && !parameter) throw new Error(`Unknown target ${target}`);
  return fc
    .sample(fc.tuple(arbitrary, fc.boolean()), { seed: seed ^ hashOf(`${operation.label} ${target}`), numRuns: count })
    .map(([mutate, asClient]) => {
      const c = base();
      mutate(c);
      c.asClient = asClient;
      return c;
    });
}

// Each target draws its own sequence from the run's seed.
function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}
