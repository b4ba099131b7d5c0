export { startTracing, stopTracing } from './start-tracing';
export { tracingEnabled } from './tracing-env';
export { traceLogFields } from './log-fields';
export { redactUrl } from './redact-urls';
