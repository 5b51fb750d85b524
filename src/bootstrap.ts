import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AddressInfo } from 'node:net';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { fieldErrorsException, flattenValidationErrors, VALIDATION_OPTIONS } from './common/field-errors';
import { DatabaseErrorFilter } from './common/database-error.filter';
import { hardenHttpInput } from './common/framework-errors.filter';
import { failureText } from './common/startup-error';
import { AppConfig } from './config/app-config';
import { sizeHeapForRole } from './config/heap-sizing';
import { cacheValidationMetadata } from './common/validation-metadata-cache';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { fastifyAdapter, installHttpFront } from './http/fastify-front';
import { buildOpenApiDocument } from './http/openapi';
import { logStartSummary } from './logging/start-summary';
import { ServiceLogger } from './logging/service-logger';
import { configureTransport } from './tasks/queues/queue-transport';

export interface RunningService {
  app: INestApplication;
  config: AppConfig;
  /** Closes the app (graceful, as on SIGTERM) and the embedded database if one was started. */
  stop(): Promise<void>;
}

/**
 * Builds and starts one process of the service: resolves the store (embedded PostgreSQL when
 * `DATABASE_URL` is unset) and the transport (Redis or BullMQ's PostgreSQL backend), then
 * starts the HTTP server for the api/all roles or just the workers for the worker role.
 */
export async function startService(config: AppConfig): Promise<RunningService> {
  // Before anything logs: every line, the first included, goes through pino.
  const logger = ServiceLogger.install(config);
  cacheValidationMetadata();
  let embedded: EmbeddedDatabase | undefined;
  if (!config.env.DATABASE_URL) {
    embedded = await startEmbeddedPostgres(config.env.DATA_DIR, config.env.EMBEDDED_POSTGRES_PORT);
    config.databaseUrl = embedded.url;
  }
  const connection = configureTransport(config);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, connection),
    fastifyAdapter(),
    { logger },
  );
  // No enableShutdownHooks(): stopOnSignals closes the app (running the same shutdown hooks),
  // then the embedded database, then exits 0; Nest's own hook would re-raise the signal first.
  // Request ids, the drain's tracking of event streams (see HttpDrain), the HTTP timings.
  installHttpFront(app);
  app.useGlobalPipes(
    new ValidationPipe({
      ...VALIDATION_OPTIONS,
      transform: true,
      exceptionFactory: (errors) => fieldErrorsException(flattenValidationErrors(errors)),
    }),
  );
  app.useGlobalFilters(new DatabaseErrorFilter(app.getHttpAdapter()));
  hardenHttpInput(app);
  const store = !embedded
    ? 'PostgreSQL at DATABASE_URL'
    : `embedded PostgreSQL (${config.env.DATA_DIR}/postgres${embedded.joined ? ', joined: another process on this DATA_DIR started it' : ''})`;
  if (config.runsApi) {
    SwaggerModule.setup('docs', app, buildOpenApiDocument(app));
  }
  // Workers listen too: Kubernetes probes them and Prometheus scrapes their task metrics.
  await app.listen(config.env.PORT, '0.0.0.0');
  const port = (app.getHttpServer().address() as AddressInfo | null)?.port ?? config.env.PORT;
  logStartSummary(app, config, store, port);
  sizeHeapForRole(config.runsWorkers);
  return {
    app,
    config,
    stop: async () => {
      await app.close();
      await embedded?.stop();
    },
  };
}

/**
 * SIGTERM/SIGINT close the app gracefully, then the embedded database; the process exits 0
 * when that is done. Shared by `main` and `cli worker`. The order: readiness turns 503 (and
 * the process keeps serving `SHUTDOWN_READINESS_DELAY_MS`), then workers drain their active
 * tasks while the HTTP server stops accepting, answers long-polls with the current state,
 * ends event streams and lets in-flight requests finish (see HttpDrain), then the stores close.
 */
export function stopOnSignals(service: RunningService): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void service.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`Shutdown failed: ${failureText(error)}\n`);
          process.exit(1);
        },
      );
    });
  }
}
