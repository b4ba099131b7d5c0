export * from './service-env';
export * from './logging';
export * from './platform.module';
export * from './run-service';
export * from './metrics/metrics.registry';
export * from './metrics/scraped-gauge';
export { ServiceShutdown } from './shutdown/service-shutdown';
