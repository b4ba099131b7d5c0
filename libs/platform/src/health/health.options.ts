export interface HealthOptions {
  /** Whether readiness includes a database ping (only services that own one). */
  database: boolean;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
