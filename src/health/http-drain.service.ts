import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Server, ServerResponse } from 'node:http';
import { AppConfig } from '../config/app-config';
import { TaskCompletions } from '../tasks/records/task-completions.service';

/**
 * Drains the HTTP server on shutdown, after readiness has turned 503 and the load balancer
 * has had its delay: stops accepting connections, ends open Server-Sent Event streams with a
 * `shutdown` event (an EventSource reconnects, to another pod), closes idle keep-alive
 * connections, answers long-polls with the current state ({@link TaskCompletions}) and waits
 * for in-flight requests to finish. Whatever is still open after
 * `SHUTDOWN_GRACE_MS` is cut.
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HttpDrain.name);
  private readonly streams = new Set<ServerResponse>();
  private readonly inFlight = new Set<ServerResponse>();
  private server?: Server;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
    private readonly completions: TaskCompletions,
  ) {}

  /** A Fastify `onRequest` hook that tracks event-stream responses so the drain can end them cleanly. */
  hook() {
    return (request: FastifyRequest, reply: FastifyReply, next: () => void): void => {
      const req = request.raw;
      const res = reply.raw;
      const path = (req.url ?? '').split('?', 1)[0];
      if (String(req.headers.accept ?? '').includes('text/event-stream') || path.endsWith('/events')) {
        this.streams.add(res);
      }
      this.inFlight.add(res);
      res.once('close', () => {
        this.streams.delete(res);
        this.inFlight.delete(res);
        // A keep-alive connection that goes idle during the drain is closed at once, not after its timeout.
        if (this.server) setImmediate(() => this.server?.closeIdleConnections());
      });
      if (this.server) res.setHeader('Connection', 'close');
      next();
    };
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    this.server = server;
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Shutdown hooks run one module after another: answer the long-polls here, not after this wait.
    this.completions.releaseAll();
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
