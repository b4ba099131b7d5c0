import { egressPolicyFromEnv, type EgressEnv } from './egress-env';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

function env(overrides: Partial<EgressEnv> = {}): EgressEnv {
  return { NODE_ENV: 'development', AMQP_URL, ...overrides };
}

describe('egressPolicyFromEnv', () => {
  it('refuses to start in production without EGRESS_ALLOW_CIDRS, naming it', () => {
    expect(() => egressPolicyFromEnv(env({ NODE_ENV: 'production' }))).toThrow(
      /EGRESS_ALLOW_CIDRS must be set when NODE_ENV=production/,
    );
  });

  it('allows any address in development and test when EGRESS_ALLOW_CIDRS is unset', () => {
    expect(egressPolicyFromEnv(env()).allow).toBe('any');
    expect(egressPolicyFromEnv(env({ NODE_ENV: 'test' })).allow).toBe('any');
  });

  it('names EGRESS_ALLOW_CIDRS and the entry that is not a range', () => {
    expect(() => egressPolicyFromEnv(env({ EGRESS_ALLOW_CIDRS: '10.0.0.0/8,10.0.0.300/32' }))).toThrow(
      'EGRESS_ALLOW_CIDRS "10.0.0.300/32" is not a CIDR range',
    );
  });

  it('denies the broker of AMQP_URL and the database of DATABASE_URL, default ports included', () => {
    const policy = egressPolicyFromEnv(
      env({
        NODE_ENV: 'production',
        EGRESS_ALLOW_CIDRS: '10.0.0.0/8',
        AMQP_URL: 'amqps://user:p%40ss@rabbitmq.internal/vhost',
      }),
      { databaseUrl: 'postgres://app:secret@pg-a.internal,pg-b.internal:5433/pacslink' },
    );
    expect(policy.deny).toEqual([
      { host: 'rabbitmq.internal', port: 5671, kind: 'broker' },
      { host: 'pg-a.internal', port: 5432, kind: 'database' },
      { host: 'pg-b.internal', port: 5433, kind: 'database' },
    ]);
  });

  it('reads no DATABASE_URL of its own: a service names its database explicitly', () => {
    const withDatabase = { ...env(), DATABASE_URL: 'postgres://127.0.0.1:5432/pacslink' };
    expect(egressPolicyFromEnv(withDatabase).deny).toEqual([
      { host: '127.0.0.1', port: 5672, kind: 'broker' },
    ]);
  });

  it('adds EGRESS_DENY_ENDPOINTS (IPv6 in brackets) as own services', () => {
    const policy = egressPolicyFromEnv(
      env({ AMQP_URL: 'amqp://[::1]:5673', EGRESS_DENY_ENDPOINTS: 'postgres:5432, [fd00::5]:6379' }),
    );
    expect(policy.deny).toEqual([
      { host: '::1', port: 5673, kind: 'broker' },
      { host: 'postgres', port: 5432, kind: 'service' },
      { host: 'fd00::5', port: 6379, kind: 'service' },
    ]);
  });

  it.each(['postgres', 'postgres:0', 'postgres:70000', '[fd00::5', 'a:b:c'])(
    'names EGRESS_DENY_ENDPOINTS and the entry %j that is not host:port',
    (entry) => {
      expect(() => egressPolicyFromEnv(env({ EGRESS_DENY_ENDPOINTS: `db:5432,${entry}` }))).toThrow(
        `EGRESS_DENY_ENDPOINTS entry "${entry}" is not host:port`,
      );
    },
  );
});
