import { Injectable, NestMiddleware } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { TaskMetrics } from './task-metrics.service';

/**
 * Times every request into `http_request_duration_seconds{method,route,status}`. The route is the
 * matched pattern (`/tasks/:id`), never the raw path, so ids do not become label values; a
 * request no route matched counts as `unmatched`.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: TaskMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const end = this.metrics.httpDuration.startTimer();
    // 'close' also covers a client that went away before the response finished.
    response.once('close', () => {
      end({ method: request.method, route: routeOf(request), status: String(response.statusCode) });
    });
    next();
  }
}

function routeOf(request: Request): string {
  const pattern = request.route?.path;
  // Nest mounts middleware and its not-found handler on a catch-all (`{/*splat}`): no real route.
  if (typeof pattern !== 'string' || /^\{?\/?\*/.test(pattern)) return 'unmatched';
  // Mounted sub-apps (Bull Board) report their pattern relative to the mount point.
  return `${request.baseUrl ?? ''}${pattern}` || '/';
}
