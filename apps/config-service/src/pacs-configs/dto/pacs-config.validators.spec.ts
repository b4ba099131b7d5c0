import { ifMatchAllows } from '../pacs-config.mapper';
import { parseCreateBody, parsePatchBody } from './pacs-config-body';
import { CreateDimsePacsConfigDto } from './create-pacs-config.dto';
import { hostProblem, httpUrlProblem, textProblem } from './pacs-config.validators';

describe('PACS configuration field rules', () => {
  it.each([
    ['https://pacs.example.org/dicom-web', undefined],
    ['http://10.0.0.5:8042/dicom-web?x=1', undefined],
    ['/dicom-web', 'must be an absolute http:// or https:// URL'],
    ['http:pacs.example.org', 'must be an absolute http:// or https:// URL'],
    ['ftp://pacs.example.org', 'must use http or https, not ftp'],
    ['https://u:p@pacs.example.org', 'must not contain a user name or password: put credentials in auth'],
    ['https://pacs.example.org/#x', 'must not contain a fragment (#…)'],
    [' https://pacs.example.org', 'must not contain spaces or control characters'],
  ])('url %j', (value, problem) => {
    expect(httpUrlProblem(value)).toBe(problem);
  });

  it.each([
    ['pacs.example.org', true],
    ['localhost', true],
    ['fe80::1', true],
    ['192.168.0.1', true],
    ['PACS.example.org.', true],
    ['192.168.0.300', false],
    ['pacs_1', false],
    ['-a.example.org', false],
    ['a-.example.org', false],
    ['[::1]', false],
  ])('host %j valid: %s', (value, valid) => {
    expect(hostProblem(value) === undefined).toBe(valid);
  });

  it('counts characters as Postgres does and never quotes a secret', () => {
    expect(textProblem(2)('🩻🩻')).toBeUndefined();
    expect(textProblem(2)('🩻🩻🩻')).toContain('has 3');
    expect(textProblem(10)('a\u0007b')).toContain('U+0007');
    expect(textProblem(10, { secret: true })('a\u0007b')).toBe('must not contain control characters');
    expect(textProblem(10)('\ud800x')).toContain('lone surrogate');
  });
});

describe('request bodies chosen by type', () => {
  it('validates a create body by the class of its type, with defaults', async () => {
    const dto = await parseCreateBody({ type: 'dimse', aeTitle: ' A ', name: 'n', host: 'h', port: 104 });
    expect(dto).toBeInstanceOf(CreateDimsePacsConfigDto);
    expect(dto).toMatchObject({ aeTitle: 'A', maxAssociations: 1, mwlEncoding: 'ISO_IR 192' });
  });

  it('names the other type’s fields and refuses a type change', async () => {
    await expect(
      parseCreateBody({ type: 'dicomweb', aeTitle: 'A', name: 'n', url: 'https://x.org', port: 1 }),
    ).rejects.toMatchObject({
      response: {
        errors: [
          { field: 'port', message: 'port is a dimse field: not allowed on a dicomweb configuration' },
        ],
      },
    });
    await expect(parsePatchBody({ type: 'dimse' }, 'dicomweb')).rejects.toMatchObject({ code: 'type-fixed' });
  });
});

describe('If-Match', () => {
  const row = { id: 'abc', version: 3 };
  it.each([
    [undefined, true],
    ['"abc.3"', true],
    ['W/"abc.3"', true],
    ['"x", "abc.3"', true],
    ['*', true],
    ['"abc.2"', false],
    ['', false],
  ])('%j matches: %s', (header, matches) => {
    expect(ifMatchAllows(header, row)).toBe(matches);
  });
});
