import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule, Params } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { AppConfig } from '../config/app-config';
import { traceLogFields } from '../tracing/log-fields';

/** Probes and scrapes arrive every few seconds; logging each one drowns the useful lines. */
const QUIET_PATHS = ['/health', '/metrics'];

/**
 * Structured JSON logs through pino (pretty with `LOG_FORMAT=pretty`, for development). Every
 * request gets an id (the caller's `X-Request-Id`, else a new one) that is logged, echoed in the
 * response and stored on the tasks the request creates, so a task leads back to its request.
 * Request lines stay short: method, url, status, duration and the id, never the headers.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: LoggingModule, imports: [LoggerModule.forRoot(loggerParams(config))] };
  }
}

/**
 * The logger's settings. nestjs-pino builds one pino instance per process from the first
 * params it sees, so the service logger made before the app (see ServiceLogger) and this
 * module's middleware share it.
 */
export function loggerParams(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.env.LOG_LEVEL,
      // The trace of the request or task being served, on each of its lines (see src/tracing).
      mixin: traceLogFields,
      base: { pid: process.pid, hostname: hostname(), role: config.role },
      transport:
        config.env.LOG_FORMAT === 'pretty'
          ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } }
          : undefined,
      // Fastify gave the request its id already (see requestIdOf); pino-http logs the same one.
      genReqId: (req) => requestIdOf(req),
      serializers: {
        req: (req: IncomingMessage & { id?: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
      customSuccessMessage: (req, res, responseTime) =>
        `${req.method} ${req.url} ${res.statusCode} ${Math.round(responseTime)} ms`,
      customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      autoLogging: { ignore: (req) => QUIET_PATHS.some((p) => req.url?.startsWith(p)) },
    },
  };
}

/**
 * The id of a request: the caller's `X-Request-Id` when it is a sane token, else a new UUID.
 * Fastify's `genReqId`, so `request.id` in handlers and the id pino-http logs are one value
 * (kept on the raw request too); the hook in bootstrap echoes it as `X-Request-Id`.
 */
export function requestIdOf(req: IncomingMessage & { id?: unknown }): string {
  if (typeof req.id === 'string') return req.id;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w-]{1,100}$/.test(given) ? given : randomUUID();
  req.id = id;
  return id;
}
