import { Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

// A proxy until the SDK starts (and a no-op when tracing is off).
const tracer = trace.getTracer('task-service');

/**
 * Runs `work` in a CLIENT span named `name`, for the calls no instrumentation sees (SMTP through
 * nodemailer), so they show in the task's trace; a failure is recorded on the span and rethrown.
 */
export function inClientSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
