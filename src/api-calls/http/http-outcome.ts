import { IncomingHttpHeaders } from 'node:http';

export type StatusVerdict = 'success' | 'retry' | 'fail';

/**
 * What a status means for the task: the expected statuses (any 2xx by default) succeed; 408,
 * 429 and 5xx are worth another attempt; anything else will not change and fails at once.
 */
export function judgeStatus(status: number, expected?: number[]): StatusVerdict {
  if (expected && expected.length > 0 ? expected.includes(status) : status >= 200 && status < 300) return 'success';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'fail';
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

// Header names whose values are credentials; the record keeps the name, never the value.
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie)$|api[-_]?key|token|secret|password|passwd|session|credential/i;

/** Request headers as they may be stored: secrets replaced with `[redacted]`. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, SECRET_HEADER.test(name) ? '[redacted]' : value]),
  );
}

const KEPT_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'location',
  'retry-after',
  'date',
  'etag',
  'last-modified',
  'cache-control',
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

/** The response headers worth keeping for debugging; the rest (cookies included) are dropped. */
export function keptResponseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

/** The first `maxBytes` of a body as text, and whether it was cut. */
export function bodyExcerpt(body: Buffer, maxBytes: number): { text: string; truncated: boolean } {
  // Cutting inside a multi-byte character leaves a replacement character at the end: harmless.
  // NUL characters go: PostgreSQL text cannot hold them.
  const text = body
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\u0000/g, '');
  return { text, truncated: body.length > maxBytes };
}

/** A JSON response body, parsed, when it is small enough to go into the task result. */
export function smallJson(body: Buffer, headers: IncomingHttpHeaders, maxBytes: number): unknown {
  if (body.length === 0 || body.length > maxBytes || !/\bjson\b/i.test(String(headers['content-type'] ?? '')))
    return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
