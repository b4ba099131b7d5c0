/**
 * Tracing is on only when an OTLP endpoint is configured: without one the SDK is never loaded and
 * every span in the code is the API's no-op (nothing allocated, nothing exported). The variables are
 * OpenTelemetry's own, read by the SDK itself (sampler, batch delays, headers, protocol).
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return (
    Boolean(endpoint) &&
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true' &&
    env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() !== 'none'
  );
}
