import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { answerClientError } from '../common/client-errors';
import { fieldErrorsException } from '../common/field-errors';
import { HttpDrain } from '../health/http-drain.service';
import { requestIdOf } from '../logging/logging.module';
import { HttpMetricsMiddleware } from '../metrics/http-metrics.middleware';

/** A full POST /tasks/batch (1,000 tasks) needs more than Fastify's 1 MB default. */
export const BODY_LIMIT_BYTES = 5 * 1024 * 1024;

/**
 * The HTTP server: Nest on Fastify, which answers several times the requests of Express on the
 * same core. Request ids come from the caller's `X-Request-Id` or a new UUID; Node's parser
 * errors get the service's 400 body; multipart bodies are left unread for the upload route,
 * which streams them with busboy (see src/file/upload).
 */
export function fastifyAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdOf,
    clientErrorHandler: answerClientError,
    // Nest's logger (pino) logs; Fastify's own stays off.
    logger: false,
    multipart: false,
    // The router refuses a path that is not valid percent-encoded UTF-8 before any Nest filter runs.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      if (error.code !== 'FST_ERR_BAD_URL') return void reply.send(error);
      const body = fieldErrorsException([
        {
          field: 'path',
          rule: 'isUriEncoded',
          message: `The path is not valid percent-encoded UTF-8 (${error.message})`,
        },
      ]).getResponse();
      void reply.status(400).send(body);
    },
  });
}

/**
 * Hooks of every request, in Fastify's order (cheaper than Nest middleware, which runs through
 * @fastify/middie): the id echoed in the response, the drain's tracking (SIGTERM) and the
 * `http_request_duration_seconds` timer.
 */
export function installHttpFront(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Uploads stream the raw request with busboy, with their own size limit and a 413 while streaming.
  fastify.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null));
  const drain = app.get(HttpDrain).hook();
  const timer = app.get(HttpMetricsMiddleware).hook();
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    reply.raw.setHeader('X-Request-Id', request.id);
    drain(request, reply, () => timer(request, reply, done));
  });
}
