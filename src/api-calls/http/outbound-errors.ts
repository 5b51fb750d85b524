import { UnrecoverableError } from 'bullmq';

/** No complete response within the call's timeout: transient, retried. */
export class OutboundTimeoutError extends Error {
  constructor(timeoutMs: number, url: string) {
    super(`No complete response from ${url} within ${timeoutMs} ms`);
    this.name = 'OutboundTimeoutError';
  }
}

/** The response body passed the size cap; the download was aborted. Permanent. */
export class ResponseTooLargeError extends UnrecoverableError {
  constructor(maxBytes: number, url: string) {
    super(
      `The response from ${url} exceeded the ${maxBytes}-byte cap (API_CALLS_MAX_RESPONSE_BYTES); the download was aborted`,
    );
    this.name = 'ResponseTooLargeError';
  }
}

/** More redirects than allowed, or a redirect loop. Permanent. */
export class TooManyRedirectsError extends UnrecoverableError {
  constructor(max: number, url: string) {
    super(`More than ${max} redirects, the last to ${url}`);
    this.name = 'TooManyRedirectsError';
  }
}

/** The destination answered with a status the call does not accept. */
export class HttpStatusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/** A status that will not change on retry (most 4xx): the task fails at once. */
export class PermanentHttpStatusError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = 'HttpStatusError';
  }
}
