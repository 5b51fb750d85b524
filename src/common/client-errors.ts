import type { Duplex } from 'node:stream';
import { FieldError } from './field-errors';

/** Node's own answers to requests its parser refuses, other than a 400. */
const STATUS_BY_CODE: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/**
 * Requests Node's HTTP parser refuses before any framework sees them (a raw UTF-8 byte in the
 * query string, a bad header) get a 400 with the service's field-error body instead of an
 * empty one: `errors: [{ field, rule, message }]` like every other 400. Fastify's
 * `clientErrorHandler` (the server's only `clientError` listener).
 */
export function answerClientError(error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const known = error.code ? STATUS_BY_CODE[error.code] : undefined;
  if (known) {
    socket.end(`HTTP/1.1 ${known[0]} ${known[1]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  const body = JSON.stringify({
    statusCode: 400,
    error: 'Bad Request',
    message: [fieldErrorOf(error).message],
    errors: [fieldErrorOf(error)],
  });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function fieldErrorOf(error: NodeJS.ErrnoException & { reason?: string }): FieldError {
  const reason = error.reason ?? error.message;
  if (error.code === 'HPE_INVALID_URL' || /url/i.test(reason)) {
    const field = /query/i.test(reason) ? 'query' : 'path';
    return {
      field,
      rule: 'isUriEncoded',
      message: `The ${field === 'query' ? 'query string' : 'path'} must be percent-encoded: send bytes outside ASCII as %XX (${reason})`,
    };
  }
  if (/header/i.test(reason))
    return { field: 'headers', rule: 'isHttpHeader', message: `A header is malformed (${reason})` };
  return { field: 'request', rule: 'isHttp', message: `The request is not valid HTTP/1.1 (${reason})` };
}
