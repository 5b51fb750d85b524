import http, { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { LookupFunction } from 'node:net';
import { CheckedDestination, SsrfGuard } from '../ssrf/ssrf-guard';
import { OutboundTimeoutError, ResponseTooLargeError, TooManyRedirectsError } from './outbound-errors';

export interface OutboundRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** For the whole exchange, redirects included. */
  timeoutMs: number;
  maxResponseBytes: number;
  maxRedirects: number;
  /** The task's signal (cancel, task timeout): its reason is rethrown as is. */
  signal: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  finalUrl: string;
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Credentials must not follow a redirect to another origin (what browsers' fetch does too).
const ORIGIN_BOUND_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/**
 * Outbound HTTP with SSRF defences: every hop's URL goes through the guard, the socket connects
 * to the address the guard checked (a second DNS answer cannot swap in a private address),
 * redirects are followed by hand, the body is capped while it streams, and one deadline covers
 * the whole exchange.
 */
export class OutboundHttp {
  constructor(private readonly guard: SsrfGuard) {}

  async send(request: OutboundRequest): Promise<OutboundResponse> {
    const deadline = AbortSignal.timeout(request.timeoutMs);
    const signal = AbortSignal.any([request.signal, deadline]);
    let url = new URL(request.url);
    let { method, body } = request;
    let headers = { ...request.headers };
    for (let redirects = 0; ; redirects++) {
      try {
        const destination = await this.guard.check(url);
        signal.throwIfAborted();
        const response = await this.exchange(url, destination, method, headers, body, signal, request.maxResponseBytes);
        const location = response.headers.location;
        if (!REDIRECTS.has(response.status) || !location) return { ...response, finalUrl: url.href, redirects };
        if (redirects >= request.maxRedirects) throw new TooManyRedirectsError(request.maxRedirects, location);
        const next = new URL(location, url);
        // 303, and 301/302 after a POST, turn into a GET without a body (as every client does).
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = method === 'HEAD' ? 'HEAD' : 'GET';
          body = undefined;
          headers = withoutHeaders(headers, ['content-type', 'content-length']);
        }
        if (next.origin !== url.origin) headers = withoutHeaders(headers, ORIGIN_BOUND_HEADERS);
        url = next;
      } catch (error) {
        if (request.signal.aborted) throw request.signal.reason;
        if (deadline.aborted) throw new OutboundTimeoutError(request.timeoutMs, url.href);
        throw error;
      }
    }
  }

  private exchange(
    url: URL,
    destination: CheckedDestination,
    method: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<Omit<OutboundResponse, 'finalUrl' | 'redirects'>> {
    return new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(
        {
          method,
          hostname: destination.host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
          lookup: pinnedLookup(destination),
          // A fresh socket per request: a pooled one might belong to an address checked earlier.
          agent: false,
          signal,
        },
        (response) =>
          collect(response, maxBytes, url.href).then(
            (buffer) =>
              resolve({
                status: response.statusCode ?? 0,
                statusText: response.statusMessage ?? '',
                headers: response.headers,
                body: buffer,
              }),
            (error) => {
              request.destroy();
              reject(error);
            },
          ),
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** A `lookup` that answers with the checked address only, whatever DNS says now. */
function pinnedLookup(destination: CheckedDestination): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: destination.address, family: destination.family }]);
    else callback(null, destination.address, destination.family);
  }) as unknown as LookupFunction;
}

function collect(response: IncomingMessage, maxBytes: number, url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Reject before destroying: destroying emits 'aborted', whose error must not win.
    const tooLarge = () => {
      reject(new ResponseTooLargeError(maxBytes, url));
      response.destroy();
    };
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return tooLarge();
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error(`The connection to ${url} closed before the response was complete`)));
  });
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}
