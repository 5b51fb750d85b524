import { tracingEnabled } from './tracing-switch';

// Imported first by main.ts and cli.ts: the instrumentations patch http, pg, ioredis and undici
// as they are loaded, so the SDK must start before anything else requires them. A synchronous
// require, and only when tracing is on: a process without an endpoint never loads the SDK.
if (tracingEnabled()) {
  (require('./tracing') as typeof import('./tracing')).startTracing();
}
