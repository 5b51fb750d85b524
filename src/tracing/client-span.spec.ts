import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { inClientSpan } from './client-span';

describe('inClientSpan', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() =>
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })),
  );
  afterAll(() => trace.disable());
  beforeEach(() => exporter.reset());

  it('records the call as a CLIENT span with its attributes', async () => {
    await expect(inClientSpan('smtp send', { 'smtp.message_id': '<1@x>' }, async () => 'sent')).resolves.toBe('sent');
    const [span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({
      name: 'smtp send',
      kind: SpanKind.CLIENT,
      attributes: { 'smtp.message_id': '<1@x>' },
    });
  });

  it('marks the span as failed and rethrows', async () => {
    await expect(
      inClientSpan('smtp send', {}, async () => {
        throw new Error('550 mailbox unavailable');
      }),
    ).rejects.toThrow('550 mailbox unavailable');
    expect(exporter.getFinishedSpans()[0].status).toEqual({
      code: SpanStatusCode.ERROR,
      message: '550 mailbox unavailable',
    });
  });
});
