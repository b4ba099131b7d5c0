import { tracingEnabled } from './tracing-env';

/** What stopTracing ends: the SDK's provider, when tracing was started. */
let provider: { shutdown(): Promise<void> } | undefined;

/**
 * Starts the OpenTelemetry SDK when an OTLP endpoint is configured (tracingEnabled), before the
 * service loads anything else: the HTTP instrumentation patches `http` as it is required, so a
 * module that loaded it first (Nest, pino-http) would never be traced. `service` is the resource's
 * `service.name` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names another. Answers
 * whether it started. Off, the SDK is not even loaded.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider !== undefined || !tracingEnabled(env)) return provider !== undefined;
  // Loaded here, not at the top: a service without an endpoint never loads the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof import('./sdk');
  provider = startSdk(service);
  return true;
}

/** Exports the spans still buffered and stops the SDK; after the application closed. */
export async function stopTracing(): Promise<void> {
  const started = provider;
  provider = undefined;
  await started?.shutdown();
}
