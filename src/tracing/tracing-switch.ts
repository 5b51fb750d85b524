/**
 * Whether tracing is on, and how to stop it: kept apart from the SDK so that a process with
 * tracing off (and every CLI command) never loads it.
 */

let stop: (() => Promise<void>) | undefined;

/**
 * Tracing is on when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the
 * traces-only `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` does not turn it off.
 * Read from the environment directly: this runs before the configuration module is loaded.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';
}

/** Called by the SDK's starter with what exports the buffered spans and stops it. */
export function onStopTracing(stopper: () => Promise<void>): void {
  stop = stopper;
}

/** Exports what is buffered and stops the SDK (once); nothing when tracing is off. */
export async function stopTracing(): Promise<void> {
  const stopping = stop;
  stop = undefined;
  await stopping?.();
}
