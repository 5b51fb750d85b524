import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { QuietSampler } from './quiet-sampler';

describe('QuietSampler', () => {
  const sut = new QuietSampler();
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const decide = (name: string, kind: SpanKind, context = ROOT_CONTEXT) =>
    sut.shouldSample(context, traceId, name, kind, {}, []).decision;

  it("starts no trace for a worker's poll or stalled-job check", () => {
    expect(decide('getNextJob email_tasks', SpanKind.INTERNAL)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide('moveStalledJobsToWait export', SpanKind.INTERNAL)).toBe(SamplingDecision.NOT_RECORD);
  });

  it('samples requests, adds and the processing of jobs', () => {
    expect(decide('POST', SpanKind.SERVER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide('add default.tasks.system.noop', SpanKind.PRODUCER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide('process default', SpanKind.CONSUMER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("follows the parent's decision, as a caller's traceparent asks", () => {
    const parent = (flags: TraceFlags) =>
      trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: flags, isRemote: true });
    expect(decide('POST', SpanKind.SERVER, parent(TraceFlags.NONE))).toBe(SamplingDecision.NOT_RECORD);
    expect(decide('getNextJob x', SpanKind.INTERNAL, parent(TraceFlags.SAMPLED))).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });
});
