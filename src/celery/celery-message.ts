/**
 * Decoding of Celery task messages as kombu's Redis transport stores them: a JSON envelope
 * (`body`, `headers`, `properties`, `content-type`) whose body is base64. Protocol v2 keeps the
 * task's meta in the headers and `[args, kwargs, embed]` in the body; protocol v1 keeps
 * everything in the body.
 */

/** One task call, whatever the protocol version. */
export interface CeleryTaskMessage {
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** ISO time before which the task must not run (`countdown`/`eta`). */
  eta: Date | null;
  /** The task is revoked if it has not started by then. */
  expires: Date | null;
  /** `[hard, soft]` seconds, in that order as Celery sends them. */
  timelimit: [number | null, number | null];
  retries: number;
  priority: number | null;
  parentId: string | null;
  rootId: string | null;
  /** Canvas parts that the ingress refuses (chain, chord, callbacks, errbacks), by name. */
  workflow: string[];
  /** kombu's envelope fields needed to ack and restore the message. */
  deliveryTag: string;
  exchange: string;
  routingKey: string;
  redelivered: boolean;
}

/** Why a message cannot run; `id`/`task` are filled when they could be read, to report the failure. */
export class CeleryMessageError extends Error {
  constructor(
    message: string,
    readonly id: string | null,
    readonly task: string | null,
    readonly excType = 'ValueError',
  ) {
    super(message);
    this.name = 'CeleryMessageError';
  }
}

type Dict = Record<string, any>;

/** Decodes a raw envelope popped from a broker list. Throws {@link CeleryMessageError}. */
export function decodeCeleryMessage(raw: string): CeleryTaskMessage {
  let envelope: Dict;
  try {
    envelope = JSON.parse(raw);
  } catch {
    throw new CeleryMessageError('The message is not JSON', null, null);
  }
  if (!envelope || typeof envelope !== 'object')
    throw new CeleryMessageError('The message is not an object', null, null);
  const headers: Dict = envelope.headers ?? {};
  const properties: Dict = envelope.properties ?? {};
  const delivery: Dict = properties.delivery_info ?? {};
  const contentType = envelope['content-type'] ?? 'application/json';
  const id = stringOr(headers.id) ?? stringOr(properties.correlation_id);
  const task = stringOr(headers.task);
  if (contentType !== 'application/json') {
    throw new CeleryMessageError(
      `Content type ${contentType} is not accepted (accept_content is json)`,
      id,
      task,
      'ContentDisallowed',
    );
  }
  let body: unknown;
  try {
    const text =
      properties.body_encoding === 'base64'
        ? Buffer.from(String(envelope.body), 'base64').toString('utf8')
        : envelope.body;
    body = typeof text === 'string' ? JSON.parse(text, reviveKombu) : text;
  } catch {
    throw new CeleryMessageError('The message body is not base64 JSON', id, task);
  }
  const common = {
    deliveryTag: String(properties.delivery_tag ?? ''),
    exchange: String(delivery.exchange ?? ''),
    routingKey: String(delivery.routing_key ?? ''),
    redelivered: Boolean(headers.redelivered ?? delivery.redelivered),
    priority: typeof properties.priority === 'number' ? properties.priority : null,
  };
  if (task && headers.id) return { ...common, ...fromProtocol2(headers, body, id!, task) };
  if (body && typeof body === 'object' && !Array.isArray(body) && 'task' in body) {
    return { ...common, ...fromProtocol1(body as Dict) };
  }
  throw new CeleryMessageError('The message is neither Celery protocol 1 nor 2', id, task);
}

function fromProtocol2(headers: Dict, body: unknown, id: string, task: string) {
  if (!Array.isArray(body) || body.length < 2) {
    throw new CeleryMessageError('A protocol 2 body must be [args, kwargs, embed]', id, task);
  }
  const [args, kwargs, embed] = body as [unknown, unknown, Dict | undefined];
  return {
    id,
    task,
    ...argsOf(args, kwargs, id, task),
    eta: dateOf(headers.eta),
    expires: dateOf(headers.expires),
    timelimit: limitsOf(headers.timelimit),
    retries: Number(headers.retries ?? 0) || 0,
    parentId: stringOr(headers.parent_id),
    rootId: stringOr(headers.root_id),
    workflow: workflowOf(embed ?? {}),
  };
}

function fromProtocol1(body: Dict) {
  const id = stringOr(body.id);
  const task = stringOr(body.task);
  if (!id || !task) throw new CeleryMessageError('A protocol 1 body needs id and task', id, task);
  return {
    id,
    task,
    ...argsOf(body.args ?? [], body.kwargs ?? {}, id, task),
    eta: dateOf(body.eta),
    expires: dateOf(body.expires),
    timelimit: limitsOf(body.timelimit),
    retries: Number(body.retries ?? 0) || 0,
    parentId: null,
    rootId: null,
    workflow: workflowOf({ callbacks: body.callbacks, errbacks: body.errbacks, chord: body.chord }),
  };
}

function argsOf(args: unknown, kwargs: unknown, id: string, task: string) {
  if (!Array.isArray(args)) throw new CeleryMessageError('args must be a list', id, task, 'TypeError');
  if (!kwargs || typeof kwargs !== 'object' || Array.isArray(kwargs)) {
    throw new CeleryMessageError('kwargs must be a mapping', id, task, 'TypeError');
  }
  return { args, kwargs: kwargs as Record<string, unknown> };
}

function workflowOf(embed: Dict): string[] {
  return ['chain', 'chord', 'callbacks', 'errbacks'].filter((part) => {
    const value = embed[part];
    return value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
  });
}

function limitsOf(value: unknown): [number | null, number | null] {
  const [hard, soft] = Array.isArray(value) ? value : [];
  const seconds = (v: unknown) => (typeof v === 'number' && v > 0 ? v : null);
  return [seconds(hard), seconds(soft)];
}

/** Celery sends ISO 8601 times, aware (`+08:00`) or naive meaning UTC (`utc: true`). */
function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string' || value === '') return null;
  const aware = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`;
  const date = new Date(aware);
  return Number.isNaN(date.getTime()) ? null : date;
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * kombu ≥ 5.3 writes datetimes, decimals, UUIDs and bytes as `{"__type__": …, "__value__": …}`;
 * they become what a JSON payload holds: ISO strings, numbers, canonical UUID strings, text.
 */
export function reviveKombu(_key: string, value: any): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !('__type__' in value)) return value;
  const inner = value.__value__;
  switch (value.__type__) {
    case 'datetime':
    case 'date':
    case 'time':
      return String(inner);
    case 'decimal': {
      const number = Number(inner);
      return Number.isFinite(number) ? number : String(inner);
    }
    case 'uuid': {
      const hex = String(typeof inner === 'object' && inner ? inner.hex : inner).replace(/-/g, '');
      return /^[0-9a-f]{32}$/i.test(hex)
        ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toLowerCase()
        : String(inner);
    }
    case 'bytes': {
      const decoded = Buffer.from(String(inner), 'base64');
      return decoded.toString('base64') === String(inner) ? decoded.toString('utf8') : String(inner);
    }
    default:
      return value;
  }
}
