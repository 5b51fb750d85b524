import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { NextFunction, Request, Response } from 'express';
import { Server } from 'node:http';
import { AppConfig } from '../config/app-config';

/**
 * Drains the HTTP server on shutdown, after readiness has turned 503 and the load balancer
 * has had its delay: stops accepting connections, ends open Server-Sent Event streams with a
 * `shutdown` event (an EventSource reconnects, to another pod), closes idle keep-alive
 * connections and waits for in-flight requests to answer. Long-polls are answered by
 * {@link TaskCompletions} at the same moment. Whatever is still open after
 * `SHUTDOWN_GRACE_MS` is cut.
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HttpDrain.name);
  private readonly streams = new Set<Response>();
  private draining = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
  ) {}

  /** Express middleware that tracks event-stream responses so the drain can end them cleanly. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (String(req.headers.accept ?? '').includes('text/event-stream') || req.path.endsWith('/events')) {
        this.streams.add(res);
        res.once('close', () => this.streams.delete(res));
      }
      if (this.draining) res.setHeader('Connection', 'close');
      next();
    };
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of this.streams) {
      res.write('event: shutdown\ndata: {"reconnect":true}\n\n');
      res.end();
    }
    server.closeIdleConnections();
    const grace = this.config.env.SHUTDOWN_GRACE_MS;
    const timer = setTimeout(() => {
      this.logger.warn(`HTTP requests still open after ${grace} ms; closing their connections`);
      server.closeAllConnections();
    }, grace).unref();
    await closed;
    clearTimeout(timer);
    this.logger.log('HTTP server drained');
  }
}
