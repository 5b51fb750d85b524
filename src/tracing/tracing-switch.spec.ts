import { onStopTracing, stopTracing, tracingEnabled } from './tracing-switch';

describe('tracing switch', () => {
  it('is off unless an OTLP endpoint is set', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
  });

  it('stays off when OTEL_SDK_DISABLED is true', () => {
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(
      false,
    );
  });

  it('stops the SDK once, and does nothing when it never started', async () => {
    await expect(stopTracing()).resolves.toBeUndefined();
    const stop = jest.fn(async () => undefined);
    onStopTracing(stop);
    await stopTracing();
    await stopTracing();
    expect(stop).toHaveBeenCalledTimes(1);
  });
});
