/** STORE_RETENTION_DAYS as a rule: `keepDays` undefined keeps every study for ever. */
export interface RetentionPolicy {
  keepDays?: number;
}

const DAY_MS = 24 * 60 * 60_000;

/** Studies whose last instance arrived before the answer are due; undefined: none ever is. */
export function dueForRetention(policy: RetentionPolicy, now: Date): Date | undefined {
  if (policy.keepDays === undefined) return undefined;
  return new Date(now.getTime() - policy.keepDays * DAY_MS);
}
