import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * `trace_id` and `span_id` of the active span, for pino's `mixin`: every line logged while a
 * request or a task runs names its trace (the OpenTelemetry log-correlation field names).
 * Empty when tracing is off or nothing is traced.
 */
export function traceLogFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}
