/** Field names whose values never reach the audit log, a response, a log line or an event. */
export const SECRET_FIELDS = new Set(['password', 'token', 'clientSecret']);

export const MASK = '***';

/** A deep copy with every secret field's value replaced by `***`. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, SECRET_FIELDS.has(key) ? MASK : maskSecrets(inner)]),
  );
}
