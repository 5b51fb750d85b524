import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TaskMetrics } from './task-metrics.service';

/**
 * Times every request into `http_request_duration_seconds{method,route,status}`. The route is the
 * matched pattern (`/tasks/:id`), never the raw path, so ids do not become label values; a
 * request no route matched counts as `unmatched`. A Fastify `onRequest` hook (see bootstrap).
 */
@Injectable()
export class HttpMetricsMiddleware {
  constructor(private readonly metrics: TaskMetrics) {}

  hook() {
    return (request: FastifyRequest, reply: FastifyReply, next: () => void): void => {
      const end = this.metrics.httpDuration.startTimer();
      // 'close' also covers a client that went away before the response finished.
      reply.raw.once('close', () => {
        end({ method: request.method, route: routeOf(request), status: String(reply.raw.statusCode) });
      });
      next();
    };
  }
}

function routeOf(request: FastifyRequest): string {
  const pattern = request.routeOptions?.url;
  // Fastify's not-found handler and catch-all wildcards (`/*`) are no real route.
  if (typeof pattern !== 'string' || /^\/?\*/.test(pattern)) return 'unmatched';
  return pattern || '/';
}
