import { FuzzCase } from './fuzz-cases';
import { HostileText } from './hostile-values';

export interface FuzzOutcome {
  status: number;
  body: unknown;
  /** Set when the answer breaks the contract: a 5xx, a 4xx that names nothing, no answer at all. */
  problem?: string;
}

// The event stream never ends by itself: its headers are the answer.
const STREAM_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 15_000;

function encoded(value: HostileText): string {
  if (value.encoded) return value.text;
  try {
    return encodeURIComponent(value.text);
  } catch {
    // A lone surrogate cannot be UTF-8 encoded: send the bytes of one instead.
    return '%ED%A0%80';
  }
}

export function urlOf(baseUrl: string, c: FuzzCase): string {
  const path = c.operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encoded(c.pathParams[name]));
  const query = c.query.map(([name, value]) => `${encodeURIComponent(name)}=${encoded(value)}`).join('&');
  return `${baseUrl}${path}${query ? `?${query}` : ''}`;
}

/** A short, replayable description of the request (huge values cut). */
export function describeCase(c: FuzzCase, baseUrl: string): string {
  const body =
    c.body && 'json' in c.body
      ? JSON.stringify(c.body.json)
      : c.body
        ? `<${c.body.contentType}> ${c.body.raw.toString('latin1')}`
        : '';
  const cut = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text);
  return `${c.operation.method} ${cut(urlOf(baseUrl, c).slice(baseUrl.length))} [${c.target}, ${c.asClient ? 'client' : 'admin'} key] headers=${cut(JSON.stringify(c.headers))} body=${cut(body)}`;
}

/** Whether the 4xx body names what was wrong, in the shapes the service uses (src/common/field-errors.ts). */
export function namesTheProblem(status: number, body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const { message, errors } = body as { message?: unknown; errors?: unknown };
  if (status === 400) {
    // Field errors: a non-empty list of {field, rule, message}.
    return (
      Array.isArray(errors) &&
      errors.length > 0 &&
      errors.every((e) => e && typeof e.field === 'string' && e.field && typeof e.rule === 'string' && e.rule)
    );
  }
  // Other 4xx (401, 403, 404, 409, 413, 415 …): the status is the rule; the message says why.
  return (typeof message === 'string' && message.length > 0) || (Array.isArray(message) && message.length > 0);
}

/** Sends one case and judges the answer. */
export async function sendCase(
  baseUrl: string,
  c: FuzzCase,
  keys: { admin: string; client: string },
): Promise<FuzzOutcome> {
  const streams = /\/events$/.test(c.operation.path);
  const headers: Record<string, string> = { authorization: `Bearer ${c.asClient ? keys.client : keys.admin}` };
  let body: Buffer | string | undefined;
  if (c.body && 'json' in c.body) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(c.body.json) ?? 'null';
  } else if (c.body) {
    headers['content-type'] = c.body.contentType;
    body = c.body.raw;
  }
  Object.assign(headers, c.headers);
  let response: Response;
  try {
    response = await fetch(urlOf(baseUrl, c), {
      method: c.operation.method,
      headers,
      body,
      signal: AbortSignal.timeout(streams ? STREAM_TIMEOUT_MS : REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    // fetch itself refuses header values that are not ByteStrings or hold control characters
    // (a TypeError of its own, not "fetch failed"; `instanceof` fails across Jest's realms):
    // nothing reached the service.
    if (error.name === 'TypeError' && error.message !== 'fetch failed') return { status: 0, body: undefined };
    return { status: 0, body: undefined, problem: `no answer: ${error.name}: ${error.message}` };
  }
  if (streams && response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, body: undefined };
  }
  const text = await response.text().catch(() => '');
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  const outcome: FuzzOutcome = { status: response.status, body: parsed };
  if (response.status >= 500) outcome.problem = `answered ${response.status}: ${text.slice(0, 300)}`;
  else if (response.status >= 400 && !namesTheProblem(response.status, parsed))
    outcome.problem = `answered ${response.status} without naming a field or rule: ${text.slice(0, 300)}`;
  return outcome;
}
