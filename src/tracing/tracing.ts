import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { QuietSampler } from './quiet-sampler';
import { onStopTracing } from './tracing-switch';

/** Probes and scrapes arrive every few seconds: a trace of each would bury the requests that matter. */
const UNTRACED_PATHS = ['/health', '/metrics'];

let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry SDK: spans of incoming and outgoing HTTP (http, undici for fetch),
 * PostgreSQL and Redis calls, exported as OTLP over HTTP/protobuf to the configured endpoint
 * (the standard `OTEL_*` variables apply: service name, headers, batch delays; the sampler is
 * {@link QuietSampler}). Only traces: metrics stay on /metrics for Prometheus, logs on stdout.
 * Must run before the instrumented modules are loaded, which `src/tracing/register` ensures.
 */
export function startTracing(): void {
  if (sdk) return;
  sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ? undefined : 'task-service',
    traceExporter: new OTLPTraceExporter(),
    sampler: new QuietSampler(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.some((path) => request.url?.startsWith(path)),
      }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Only within a traced operation: the worker's polling and the pool's housekeeping are not.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  const started = sdk;
  onStopTracing(() => started.shutdown());
}
