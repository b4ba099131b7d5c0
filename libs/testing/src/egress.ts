import { EgressGuard, egressPolicyFromEnv } from '@pacslink/egress';

/** Where the tests' PACS peers are: on loopback, as scripts/test-peers.sh and the tests start them. */
export const TEST_EGRESS_ALLOW_CIDRS = '127.0.0.0/8,::1/128';

/** `host:port` of a database URL (Postgres's default port when it names none). */
function hostPortOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}`;
}

/**
 * The egress variables of a worker under test: PACS peers on loopback only, and this run's
 * database refused as the broker is (workers have no DATABASE_URL to derive it from).
 */
export function testEgressEnv(): Record<string, string> {
  const databaseUrl = process.env.DATABASE_URL;
  return {
    EGRESS_ALLOW_CIDRS: TEST_EGRESS_ALLOW_CIDRS,
    ...(databaseUrl === undefined ? {} : { EGRESS_DENY_ENDPOINTS: hostPortOf(databaseUrl) }),
  };
}

/** The guard the protocol libraries' tests connect through: the same policy as the workers under test. */
export function testEgressGuard(): EgressGuard {
  return new EgressGuard(
    egressPolicyFromEnv(
      {
        NODE_ENV: 'test',
        AMQP_URL: process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672',
        EGRESS_ALLOW_CIDRS: TEST_EGRESS_ALLOW_CIDRS,
      },
      { databaseUrl: process.env.DATABASE_URL },
    ),
  );
}
