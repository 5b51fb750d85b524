/**
 * A task's Celery call shape (`process_file(file_id)`, `send_email(to, subject, text=None)`),
 * used to turn a Celery call's positional and keyword arguments into the task's payload object,
 * with the TypeErrors Python itself would raise for a call that does not fit.
 */
export interface CelerySignature {
  /** The Python function name, for error messages. */
  name: string;
  params: { name: string; field: string; required: boolean }[];
  /** `*args`: extra positional arguments go to this payload field. */
  varArgs: string | null;
  /** `**kwargs`: any keyword is accepted. */
  varKwargs: boolean;
}

/** A call that does not fit the signature; reported to the caller as Python's TypeError. */
export class CeleryCallError extends Error {
  readonly excType = 'TypeError';
}

const cache = new Map<string, CelerySignature>();

/** Parses `name(a, b=None, *args, **kwargs)`. Throws on a malformed declaration (a programming error). */
export function parseSignature(declaration: string): CelerySignature {
  const cached = cache.get(declaration);
  if (cached) return cached;
  const match = /^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$/.exec(declaration);
  if (!match) throw new Error(`Celery signature "${declaration}" is not of the form name(arg, ...)`);
  const signature: CelerySignature = { name: match[1], params: [], varArgs: null, varKwargs: false };
  for (const part of match[2]
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [, stars, name, defaulted] = /^(\*{0,2})([A-Za-z_]\w*)\s*(=.*)?$/.exec(part) ?? [];
    if (!name) throw new Error(`Celery signature "${declaration}": cannot read parameter "${part}"`);
    if (stars === '**') signature.varKwargs = true;
    else if (stars === '*') signature.varArgs = camelCase(name);
    else signature.params.push({ name, field: camelCase(name), required: defaulted === undefined });
  }
  cache.set(declaration, signature);
  return signature;
}

/**
 * Binds `args`/`kwargs` to the signature as Python would and returns the payload object.
 * Keyword names in snake_case are taken for their camelCase payload fields (`file_id` → `fileId`).
 * `keepKeys` leaves keyword names as they are (tasks that accept any arguments).
 */
export function bindCall(
  signature: CelerySignature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  keepKeys = false,
): Record<string, unknown> {
  const { name, params } = signature;
  const payload: Record<string, unknown> = {};
  if (args.length > params.length && !signature.varArgs) {
    const takes = params.length === 1 ? '1 positional argument' : `${params.length} positional arguments`;
    throw new CeleryCallError(`${name}() takes ${takes} but ${args.length} were given`);
  }
  params.forEach((param, index) => {
    if (index < args.length) payload[param.field] = args[index];
  });
  if (signature.varArgs && args.length > params.length) payload[signature.varArgs] = args.slice(params.length);
  for (const [key, value] of Object.entries(kwargs)) {
    const param = params.find((p) => p.name === key || p.field === key);
    if (!param && !signature.varKwargs) {
      throw new CeleryCallError(`${name}() got an unexpected keyword argument '${key}'`);
    }
    const field = param?.field ?? (keepKeys ? key : camelCase(key));
    if (field in payload) throw new CeleryCallError(`${name}() got multiple values for argument '${key}'`);
    payload[field] = value;
  }
  const missing = params.filter((p) => p.required && !(p.field in payload)).map((p) => `'${p.name}'`);
  if (missing.length > 0) {
    const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
    throw new CeleryCallError(
      `${name}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${list}`,
    );
  }
  return payload;
}

/** The signature used for a task that declares none: keyword arguments only. */
export function keywordOnly(taskName: string): CelerySignature {
  return { name: taskName.split('.').at(-1) ?? taskName, params: [], varArgs: null, varKwargs: true };
}

export function camelCase(name: string): string {
  return name.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
