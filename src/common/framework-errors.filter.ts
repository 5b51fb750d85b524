import { ArgumentsHost, BadRequestException, Catch, HttpException, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FieldError, fieldErrorsException } from './field-errors';
import { jsonInputProblem } from './json-input';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The field errors for a 400 that Fastify (its JSON parser, its router) or a built-in Nest pipe
 * raised with a bare message (invalid JSON, a bad percent-encoding in the path, `ParseUUIDPipe`),
 * so every 400 has the service's one shape: `errors: [{ field, rule, message }]`.
 */
export function frameworkFieldErrors(
  exception: HttpException,
  request: Pick<FastifyRequest, 'params'> | undefined,
): FieldError[] | undefined {
  if (exception.getStatus() !== HttpStatus.BAD_REQUEST) return undefined;
  const body = exception.getResponse();
  if (typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors)) return undefined;
  const message = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? '');
  const cause = exception.cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (
    cause instanceof SyntaxError ||
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
  ) {
    return [{ field: 'body', rule: 'isJson', message: `body must be a JSON object or array (${message})` }];
  }
  if (cause instanceof URIError || code === 'FST_ERR_BAD_URL') {
    return [
      { field: 'path', rule: 'isUriEncoded', message: `The path is not valid percent-encoded UTF-8 (${message})` },
    ];
  }
  const expected = /^Validation failed \((.+) is expected\)$/.exec(message);
  if (expected) {
    const params = Object.entries((request?.params as Record<string, unknown> | undefined) ?? {});
    const bad = params.filter(([, value]) => !UUID.test(String(value))).map(([name]) => name);
    const rule = expected[1] === 'uuid' ? 'isUuid' : expected[1].replace(/\W+(\w)/g, (_, c: string) => c.toUpperCase());
    return (bad.length ? bad : ['id']).map((field) => ({ field, rule, message: `${field} must be a ${expected[1]}` }));
  }
  return undefined;
}

/** Gives the bare 400s of the framework the field-error shape; everything else is handled as before. */
@Catch(HttpException)
export class FrameworkErrorsFilter extends BaseExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const request = host.getType() === 'http' ? host.switchToHttp().getRequest<FastifyRequest>() : undefined;
    const errors = frameworkFieldErrors(exception, request);
    super.catch(errors ? fieldErrorsException(errors) : exception, host);
  }
}

/**
 * Refuses, before any pipe or handler sees them, a parsed JSON body or query that nests deeper
 * than MAX_JSON_DEPTH or holds a string PostgreSQL cannot store (NUL, an unpaired surrogate).
 * A Fastify `preValidation` hook: it runs once the body is parsed.
 */
export function rejectUnstorableInput(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const problem =
    jsonInputProblem(request.query, '') ??
    (request.body && typeof request.body === 'object' && !Buffer.isBuffer(request.body)
      ? jsonInputProblem(request.body)
      : undefined);
  if (!problem) return done();
  const error: BadRequestException = fieldErrorsException([problem]);
  void reply.status(HttpStatus.BAD_REQUEST).send(error.getResponse());
}

/**
 * Hostile-input handling for the HTTP app: call after the other global filters are set (the
 * last filter registered is consulted first).
 */
export function hardenHttpInput(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().addHook('preValidation', rejectUnstorableInput);
  app.useGlobalFilters(new FrameworkErrorsFilter(app.getHttpAdapter()));
}
