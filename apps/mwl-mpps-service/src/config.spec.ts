import { loadMwlMppsEnv } from './config';

const BASE = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/pacslink',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
};

describe('mwl-mpps-service environment: it calls PACS, so the egress policy applies', () => {
  it('refuses to start in production without EGRESS_ALLOW_CIDRS, naming it', () => {
    expect(() => loadMwlMppsEnv({ ...BASE, NODE_ENV: 'production' })).toThrow(
      /EGRESS_ALLOW_CIDRS must be set when NODE_ENV=production/,
    );
  });

  it('names a malformed range at boot', () => {
    expect(() => loadMwlMppsEnv({ ...BASE, EGRESS_ALLOW_CIDRS: '10.0.0.0/99' })).toThrow(
      /EGRESS_ALLOW_CIDRS/,
    );
  });

  it('starts in production with the ranges set', () => {
    expect(
      loadMwlMppsEnv({ ...BASE, NODE_ENV: 'production', EGRESS_ALLOW_CIDRS: '10.20.0.0/16' })
        .EGRESS_ALLOW_CIDRS,
    ).toBe('10.20.0.0/16');
  });
});
