import pino from 'pino';
import { Writable } from 'node:stream';
import { REDACTED_PATHS, loggableUrl } from './logging';

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
