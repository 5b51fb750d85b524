import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { defineTask } from '../tasks/task-definition';
import {
  IsHeaderMap,
  IsHttpUrl,
  IsStatusList,
  MAX_REQUEST_BODY_BYTES,
  MaxJsonBytes,
  NoBodyFor,
} from './http/request.validators';
import { QueueName } from '../tasks/queue-names';
import { IsWebhookSecret } from './webhook-signature';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const upper = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value);

export class ApiCallArgs {
  @ApiProperty({ enum: HTTP_METHODS, example: 'GET' })
  @Transform(upper)
  @IsIn(HTTP_METHODS, { message: `method must be one of ${HTTP_METHODS.join(', ')}` })
  method: string;

  @ApiProperty({
    example: 'https://api.example.com/v1/things',
    description: 'http or https; private, loopback and link-local destinations are refused',
  })
  @IsHttpUrl()
  url: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsHeaderMap()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: 'A JSON value (sent as application/json) or a string (sent as is)' })
  @IsOptional()
  @MaxJsonBytes(MAX_REQUEST_BODY_BYTES)
  @NoBodyFor(['GET', 'HEAD'])
  body?: unknown;

  @ApiPropertyOptional({ minimum: 100, maximum: 60_000, description: 'For the whole exchange, redirects included' })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs?: number;

  @ApiPropertyOptional({
    description: 'Statuses that count as success (default: any 2xx)',
    oneOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' } }],
    example: [200, 404],
  })
  @IsOptional()
  @IsStatusList()
  expectStatus?: number | number[];
}

export class WebhookArgs {
  @ApiProperty({ example: 'https://hooks.example.com/orders' })
  @IsHttpUrl()
  url: string;

  @ApiProperty({ example: 'order.paid' })
  @IsString()
  @Length(1, 100)
  @Matches(/^[\w.:-]+$/, { message: 'event may only hold letters, digits, ".", "_", ":" and "-"' })
  event: string;

  @ApiProperty({ description: "Any JSON value; delivered as the envelope's payload" })
  @IsDefined()
  @MaxJsonBytes(MAX_REQUEST_BODY_BYTES)
  payload: unknown;

  @ApiPropertyOptional({
    description:
      'Signs each delivery per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature): whsec_ and the base64 of 24 to 64 random bytes',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  @IsOptional()
  @IsString()
  @IsWebhookSecret()
  secret?: string;
}

// Short backoff: a call is cheap to repeat, and 3 attempts keep a dead endpoint from holding work long.
const API_RETRY = { attempts: 3, backoffMs: 500 };
// Above the largest call timeout (60 s): the call's own timeout fires first. A Retry-After is waited out in the queue.
const API_TASK_TIMEOUT_MS = 90_000;

/** One outbound HTTP request with retries on network errors, timeouts, 429 and 5xx. */
export const ApiCallTask = defineTask({
  name: 'tasks.api.call',
  celery: 'call(method, url, headers=None, body=None, timeout_ms=None, expect_status=None)',
  queue: QueueName.API,
  description: 'Makes one outbound HTTP request (SSRF-guarded) and records the response',
  payload: ApiCallArgs,
  sensitiveArgs: ['headers.authorization', 'headers.proxy-authorization', 'headers.cookie', 'headers.x-api-key'],
  retry: API_RETRY,
  timeoutMs: API_TASK_TIMEOUT_MS,
});

/** Delivers one webhook: POST of a JSON envelope, signed when a secret is given. */
export const WebhookTask = defineTask({
  name: 'tasks.api.webhook',
  celery: 'webhook(url, event, payload, secret=None)',
  queue: QueueName.API,
  description: 'POSTs a JSON event to a webhook URL, signed per Standard Webhooks; webhook-id is the task id',
  payload: WebhookArgs,
  sensitiveArgs: ['secret'],
  retry: API_RETRY,
  timeoutMs: API_TASK_TIMEOUT_MS,
});
