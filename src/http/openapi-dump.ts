import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppModule } from '../app.module';
import { AppConfig } from '../config/app-config';
import { configureTransport } from '../tasks/queues/queue-transport';
import { fastifyAdapter } from './fastify-front';
import { buildOpenApiDocument } from './openapi';

/**
 * Writes the OpenAPI document without a database or a transport: Nest's preview mode builds the
 * module graph and the routes but instantiates no provider. `npm run lint:openapi` lints its output.
 * Usage: node -r @swc-node/register src/http/openapi-dump.ts [file] (default: stdout).
 */
async function main(file?: string): Promise<void> {
  const config = AppConfig.fromEnv({
    ROLE: 'api',
    DATABASE_URL: 'postgres://openapi@127.0.0.1/openapi',
    ADMIN_API_KEY: 'openapi-document-only-0123456789',
  });
  const app = await NestFactory.create(AppModule.forRoot(config, configureTransport(config)), fastifyAdapter(), {
    preview: true,
    logger: false,
  });
  const json = JSON.stringify(buildOpenApiDocument(app), null, 2);
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${json}\n`);
  } else process.stdout.write(`${json}\n`);
}

main(process.argv[2]).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
