import pino from 'pino';
import { Writable } from 'node:stream';
import { REDACTED_PATHS, loggableUrl, requestIdOf } from './logging';

describe('log redaction', () => {
  it('censors secret fields at any depth up to four levels, and authorization headers', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    logger.info({
      password: 'p0',
      config: { auth: { password: 'p1', token: 't1', clientSecret: 'c1' }, name: 'visible' },
      a: { b: { c: { accessToken: 'a3' } } },
      req: { headers: { authorization: 'Bearer k', host: 'h' } },
    });
    const line = lines.join('');
    for (const secret of ['p0', 'p1', 't1', 'c1', 'a3', 'Bearer k'])
      expect(line).not.toContain(`"${secret}"`);
    expect(line).toContain('visible');
    expect(line).toContain('[redacted]');
  });
});

describe('loggableUrl', () => {
  it('hides an event ticket in a request URL and keeps the rest', () => {
    expect(loggableUrl('/api/v1/events?ticket=abc-DEF_123&types=transfer.*')).toBe(
      '/api/v1/events?ticket=[redacted]&types=transfer.*',
    );
    expect(loggableUrl('/api/v1/events?types=transfer.*&TICKET=x')).toBe(
      '/api/v1/events?types=transfer.*&TICKET=[redacted]',
    );
    expect(loggableUrl('/api/v1/studies?limit=5')).toBe('/api/v1/studies?limit=5');
  });
});

describe('loggableUrl and Study UIDs', () => {
  it('writes every DICOM UID in a path or a query value as {uid}', () => {
    expect(loggableUrl('/api/v1/studies/1.2.826.0.1.3680043.8.498.1/series/2.25.4711')).toBe(
      '/api/v1/studies/{uid}/series/{uid}',
    );
    expect(loggableUrl('/api/v1/transfers?studyInstanceUid=1.2.3&limit=5')).toBe(
      '/api/v1/transfers?studyInstanceUid={uid}&limit=5',
    );
  });

  it('leaves ids that are not UIDs and dotted words alone', () => {
    expect(loggableUrl('/api/v1/transfers/5d1b2c3a-0000-4000-8000-000000000001')).toBe(
      '/api/v1/transfers/5d1b2c3a-0000-4000-8000-000000000001',
    );
    expect(loggableUrl('/api/v1/events?types=transfer.*&v=1')).toBe('/api/v1/events?types=transfer.*&v=1');
  });
});

describe('requestIdOf', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("keeps the caller's X-Request-Id when it is a plain token of at most 128 characters", () => {
    expect(requestIdOf('rq-0001.abc:def_9')).toBe('rq-0001.abc:def_9');
    expect(requestIdOf('x'.repeat(128))).toBe('x'.repeat(128));
  });

  it('makes a new UUID for none, several, an empty one, a long one, or one with other characters', () => {
    for (const incoming of [undefined, ['a', 'b'], '', 'x'.repeat(129), 'two words', 'a\nb', '<b>', 'ü']) {
      expect(requestIdOf(incoming)).toMatch(UUID);
    }
  });
});
