import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { RetryAfterError } from '../tasks/retry-after.error';
import { TaskContext } from '../tasks/task-definition';
import { ApiCallRecords } from './api-call-records.service';
import { ApiCallsEnvironment } from './api-calls.environment';
import { ApiCallArgs, WebhookArgs } from './api-calls.tasks';
import { ApiCallKind } from './entities/api-call.entity';
import {
  bodyExcerpt,
  judgeStatus,
  keptResponseHeaders,
  redactHeaders,
  retryAfterMs,
  smallJson,
} from './http/http-outcome';
import { HostLimiter } from './host-limits/host-limiter.service';
import { HttpStatusError, PermanentHttpStatusError } from './http/outbound-errors';
import { OutboundHttp, OutboundResponse } from './http/outbound-http';
import { SsrfGuard } from './ssrf/ssrf-guard';
import { webhookHeaders } from './webhook-signature';

const USER_AGENT = 'task-service/1 (tasks.api)';
// A JSON response this small goes into the task result too, so callers need not fetch the record.
const RESULT_JSON_BYTES = 16 * 1024;
const ERROR_EXCERPT_CHARS = 300;

interface PreparedCall {
  kind: ApiCallKind;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  event?: string;
  timeoutMs: number;
  expected?: number[];
}

export interface ApiCallResult {
  status: number;
  durationMs: number;
  bytes: number;
  finalUrl: string;
  redirects: number;
  json?: unknown;
  record: string;
}

/** Runs `tasks.api.*`: builds the request, sends it through the guarded client, records and judges the answer. */
@Injectable()
export class ApiCallsService {
  private readonly settings: ApiCallsEnvironment;
  private readonly http: OutboundHttp;

  constructor(
    config: AppConfig,
    private readonly records: ApiCallRecords,
    private readonly limiter: HostLimiter,
  ) {
    this.settings = config.section(ApiCallsEnvironment);
    this.http = new OutboundHttp(new SsrfGuard(this.settings.API_CALLS_ALLOWED_HOSTS));
  }

  call(args: ApiCallArgs, ctx: TaskContext): Promise<ApiCallResult> {
    const headers = lowerCased(args.headers);
    const body = encodeBody(args.body);
    if (body && !headers['content-type'])
      headers['content-type'] = typeof args.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    const expected = args.expectStatus === undefined ? undefined : [args.expectStatus].flat();
    const timeoutMs = args.timeoutMs ?? this.settings.API_CALLS_DEFAULT_TIMEOUT_MS;
    return this.perform(ctx, {
      kind: 'call',
      method: args.method,
      url: args.url,
      headers: { 'user-agent': USER_AGENT, ...headers },
      body,
      timeoutMs,
      expected,
    });
  }

  /**
   * The body is an envelope `{ id, event, timestamp, payload }`; `id` (also `webhook-id`) is the
   * task id, the same on every attempt, so receivers can drop duplicate deliveries. Signed per the
   * Standard Webhooks specification, so receivers verify with its library in their own language.
   */
  webhook(args: WebhookArgs, ctx: TaskContext): Promise<ApiCallResult> {
    const body = Buffer.from(
      JSON.stringify({ id: ctx.taskId, event: args.event, timestamp: new Date().toISOString(), payload: args.payload }),
    );
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      'content-type': 'application/json',
      'x-webhook-event': args.event,
      ...webhookHeaders(ctx.taskId, body, args.secret),
    };
    const timeoutMs = this.settings.API_CALLS_DEFAULT_TIMEOUT_MS;
    return this.perform(ctx, {
      kind: 'webhook',
      method: 'POST',
      url: args.url,
      headers,
      body,
      event: args.event,
      timeoutMs,
    });
  }

  /** Under the host's limit (if any): a call over it throws before anything is recorded or sent. */
  private async perform(ctx: TaskContext, call: PreparedCall): Promise<ApiCallResult> {
    const permit = await this.limiter.enter(call.url, call.timeoutMs, ctx);
    try {
      return await this.performPermitted(ctx, call);
    } finally {
      await this.limiter.leave(permit);
    }
  }

  private async performPermitted(ctx: TaskContext, call: PreparedCall): Promise<ApiCallResult> {
    const lastAttempt = ctx.attempt >= ctx.maxAttempts;
    const { kind, method, url, event } = call;
    await this.records.start({
      taskId: ctx.taskId,
      owner: ctx.owner,
      attempt: ctx.attempt,
      kind,
      method,
      url,
      event,
      requestHeaders: redactHeaders(call.headers),
    });
    const started = Date.now();
    let response: OutboundResponse;
    try {
      response = await this.http.send({
        method,
        url,
        headers: call.headers,
        body: call.body,
        timeoutMs: call.timeoutMs,
        maxResponseBytes: this.settings.API_CALLS_MAX_RESPONSE_BYTES,
        maxRedirects: this.settings.API_CALLS_MAX_REDIRECTS,
        signal: ctx.signal,
      });
    } catch (error) {
      const final = lastAttempt || isPermanent(error);
      await this.records.finish(ctx.taskId, {
        durationMs: Date.now() - started,
        error: { type: error.name, message: error.message },
        finishedAt: final ? new Date() : null,
      });
      throw error;
    }
    const durationMs = Date.now() - started;
    const verdict = judgeStatus(response.status, call.expected);
    const excerpt = bodyExcerpt(response.body, this.settings.API_CALLS_STORED_BODY_BYTES);
    const statusFailure =
      verdict === 'success' ? null : statusError(method, response, excerpt.text, verdict === 'fail');
    const error =
      statusFailure && verdict === 'retry' && !lastAttempt
        ? this.honourRetryAfter(response, statusFailure)
        : statusFailure;
    const final = verdict !== 'retry' || lastAttempt || error instanceof UnrecoverableError;
    await this.records.finish(ctx.taskId, {
      finalUrl: response.finalUrl,
      statusCode: response.status,
      responseHeaders: keptResponseHeaders(response.headers),
      responseBody: excerpt.text,
      responseBytes: response.body.length,
      responseTruncated: excerpt.truncated,
      durationMs,
      error: error && { type: error.name, message: error.message },
      finishedAt: final ? new Date() : null,
    });
    if (error) throw error;
    const json = smallJson(response.body, response.headers, RESULT_JSON_BYTES);
    return {
      status: response.status,
      durationMs,
      bytes: response.body.length,
      finalUrl: response.finalUrl,
      redirects: response.redirects,
      json,
      record: `/api-calls/${ctx.taskId}`,
    };
  }

  /**
   * A 429/503 with `Retry-After`: the next attempt comes exactly that much later, waited out in
   * BullMQ (a {@link RetryAfterError}), not in this worker slot. Asked for more than
   * API_CALLS_MAX_RETRY_AFTER_MS, the task fails now instead of retrying sooner than the server allows.
   */
  private honourRetryAfter(response: OutboundResponse, failure: Error): Error {
    if (response.status !== 429 && response.status !== 503) return failure;
    const waitMs = retryAfterMs(response.headers['retry-after']);
    if (waitMs === null) return failure;
    const cap = this.settings.API_CALLS_MAX_RETRY_AFTER_MS;
    if (waitMs > cap)
      return new PermanentHttpStatusError(
        `${failure.message} (Retry-After of ${waitMs} ms is more than API_CALLS_MAX_RETRY_AFTER_MS=${cap})`,
      );
    const retry = new RetryAfterError(waitMs, `${failure.message} (retrying after ${waitMs} ms as Retry-After asks)`);
    return Object.assign(retry, { cause: failure });
  }
}

function statusError(method: string, response: OutboundResponse, body: string, permanent: boolean): Error {
  const excerpt = body.length > ERROR_EXCERPT_CHARS ? `${body.slice(0, ERROR_EXCERPT_CHARS)}…` : body;
  const message =
    `${method} ${response.finalUrl} answered ${response.status} ${response.statusText}`.trim() +
    (excerpt ? `: ${excerpt}` : '');
  return permanent ? new PermanentHttpStatusError(message) : new HttpStatusError(message);
}

function isPermanent(error: Error): boolean {
  return (
    error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || error.name === 'TaskRevokedError'
  );
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

/** A string goes as is; any other JSON value as JSON; nothing (or null) sends no body. */
function encodeBody(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}
