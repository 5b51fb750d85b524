import { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { tracingEnabled } from './tracing-switch';

/**
 * BullMQ's telemetry when tracing is on: `add` spans on queues that write the trace context into
 * the job (`opts.telemetry.metadata`), and `process` spans on workers that continue that trace,
 * so a task's work in a worker process belongs to the request that submitted it.
 */
export function queueTelemetry(): Telemetry | undefined {
  return tracingEnabled() ? new BullMQOtel({ tracerName: 'task-service' }) : undefined;
}
