import { encodeDataset, type EncodableElement } from '@pacslink/dicom';
import { decodeWorklistMatch } from './worklist.operation';

const text = (tag: string, vr: EncodableElement['vr'], bytes: Buffer): EncodableElement => ({
  tag,
  vr,
  value: bytes,
});

function answer(charset: string | undefined, name: Buffer): Buffer {
  const elements = [
    text('00100010', 'PN', name),
    {
      tag: '00400100',
      vr: 'SQ' as const,
      value: Buffer.alloc(0),
      items: [[text('00400007', 'LO', name)]],
    },
  ];
  if (charset !== undefined) elements.push(text('00080005', 'CS', Buffer.from(charset, 'latin1')));
  return encodeDataset(elements, true);
}

describe('decodeWorklistMatch', () => {
  const cyrillic = Buffer.from('bfd5e2e0ded2', 'hex'); // 'Петров' in ISO 8859-5

  it('reads an undeclared answer by the fallback, in the sequence item too, and reports nothing', () => {
    const match = decodeWorklistMatch(answer(undefined, cyrillic), true, { fallbackCharset: 'ISO_IR 144' });
    expect(match.dataset['00100010'].Value).toEqual([{ Alphabetic: 'Петров' }]);
    expect(match.dataset['00400100'].Value).toEqual([{ '00400007': { vr: 'LO', Value: ['Петров'] } }]);
    expect(match).toMatchObject({ undecodable: [] });
    expect(match.unsupportedCharset).toBeUndefined();
  });

  it('says which declared set it could not use (the fallback read the text instead)', () => {
    const warn = jest.fn();
    const match = decodeWorklistMatch(
      answer('ISO_IR 999', cyrillic),
      true,
      { fallbackCharset: 'ISO_IR 144' },
      { warn, debug: jest.fn() },
    );
    expect(match.unsupportedCharset).toEqual(['ISO_IR 999']);
    expect(match.dataset['00100010'].Value).toEqual([{ Alphabetic: 'Петров' }]);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('names each value its set cannot decode, by tag path', () => {
    const match = decodeWorklistMatch(answer('ISO_IR 192', cyrillic), true, {
      fallbackCharset: 'ISO_IR 144',
    });
    expect(match.undecodable).toEqual([['00100010'], ['00400100', '00400007']]);
  });
});
