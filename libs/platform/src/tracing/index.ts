/** What a service's entry point imports first (apps/<app>/src/tracing.ts); the rest is platform-internal. */
export { startTracing } from './start-tracing';
