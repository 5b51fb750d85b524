/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface RawOperation {
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export type ParameterLocation = 'path' | 'query' | 'header';

export interface Parameter {
  name: string;
  in: ParameterLocation;
  required: boolean;
  schema: Schema;
}

/** One operation of the document, with `$ref`s resolved. */
export interface Operation {
  method: string;
  /** The OpenAPI path, e.g. `/tasks/{id}`. */
  path: string;
  parameters: Parameter[];
  /** The JSON body's schema, when the operation takes one. */
  body?: Schema;
  /** Express-style routes the document leaves out of its parameters (uploads) have no body here. */
  label: string;
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Follows `$ref` and single-member `allOf` (how @nestjs/swagger writes a nested DTO). */
export function resolveSchema(schema: Schema | undefined, doc: OpenApiDocument): Schema {
  let current = schema ?? {};
  for (let hops = 0; hops < 20; hops++) {
    if (current.$ref) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = { ...doc.components?.schemas?.[name], ...withoutKey(current, '$ref') };
    } else if (current.allOf?.length === 1) {
      current = { ...resolveSchema(current.allOf[0], doc), ...withoutKey(current, 'allOf') };
    } else {
      return current;
    }
  }
  throw new Error(`Schema references loop: ${JSON.stringify(schema)}`);
}

function withoutKey(schema: Schema, key: keyof Schema): Schema {
  const copy = { ...schema };
  delete copy[key];
  return copy;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, raw]) => ({
        method: method.toUpperCase(),
        path,
        label: `${method.toUpperCase()} ${path}`,
        parameters: (raw.parameters ?? [])
          .filter((p): p is Parameter & { in: ParameterLocation } => ['path', 'query', 'header'].includes(p.in))
          .map((p) => ({ name: p.name, in: p.in, required: !!p.required, schema: resolveSchema(p.schema, doc) })),
        body: raw.requestBody?.content?.['application/json']
          ? resolveSchema(raw.requestBody.content['application/json'].schema, doc)
          : undefined,
      })),
  );
}

/**
 * A plausible value for `schema`: its example, default, first enum member, or a small value of
 * its type. Objects get their required properties (recursively), so mutating one field at a
 * time reaches the code behind the other fields' checks.
 */
export function plausibleValue(schema: Schema, doc: OpenApiDocument, depth = 0): unknown {
  const s = resolveSchema(schema, doc);
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  if (s.properties || s.type === 'object') {
    const value: Record<string, unknown> = {};
    if (depth > 4) return value;
    for (const name of s.required ?? []) value[name] = plausibleValue(s.properties?.[name] ?? {}, doc, depth + 1);
    return value;
  }
  if (s.type === 'array') return depth > 4 ? [] : [plausibleValue(s.items ?? {}, doc, depth + 1)];
  if (s.type === 'number' || s.type === 'integer') return Math.max(s.minimum ?? 1, 1);
  if (s.type === 'boolean') return true;
  if (s.format === 'date-time') return '2026-11-01T00:00:00Z';
  return 'x';
}
