import { Attributes, Context, Link, SpanKind, trace } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  Sampler,
  SamplingDecision,
  SamplingResult,
} from '@opentelemetry/sdk-trace';

// BullMQ's own housekeeping, traced by bullmq-otel as root spans: every worker polls for its next
// job every few seconds and checks for stalled jobs, so an idle worker would export a trace for each.
const HOUSEKEEPING = /^(getNextJob|moveStalledJobsToWait|startStalledCheckTimer|rateLimit)\b/;

/**
 * Samples every trace (children follow their parent's decision, so a caller's `traceparent`
 * flags are honoured) except those that BullMQ's housekeeping would start: a job's trace starts
 * at the request, the schedule or the ingress that submitted it, never at a worker's poll.
 */
export class QuietSampler implements Sampler {
  private readonly delegate = new ParentBasedSampler({ root: new AlwaysOnSampler() });

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const root = trace.getSpanContext(context) === undefined;
    if (root && spanKind === SpanKind.INTERNAL && HOUSEKEEPING.test(spanName)) {
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return 'QuietSampler';
  }
}
