import { completedModifications, ppsIdOf, requestCharset } from './mpps-attributes';

describe('MPPS attributes', () => {
  it.each([
    [['Muster^Max', 'CT'], 'ISO_IR 100', undefined],
    [['Müller^Jürgen'], 'ISO_IR 100', 'ISO_IR 100'],
    [['Иванов^Иван'], 'ISO_IR 144', 'ISO_IR 144'],
    // the PACS's own set cannot carry it: UTF-8 rather than a request that cannot be encoded
    [['Иванов^Иван', 'Müller'], 'ISO_IR 100', 'ISO_IR 192'],
    [['Müller'], 'GB18030', 'ISO_IR 192'],
  ])('the character set of %j under mwlEncoding %s is %s', (texts, mwlEncoding, expected) => {
    expect(requestCharset(texts, mwlEncoding)).toBe(expected);
  });

  it('a PPS ID fits SH (16 characters) and is the same for the same task', () => {
    const id = ppsIdOf('0b7e9a3c-1f2d-4e5a-8b6c-7d8e9f0a1b2c');
    expect(id).toBe('0B7E9A3C1F2D4E5A');
    expect(ppsIdOf('0b7e9a3c-1f2d-4e5a-8b6c-7d8e9f0a1b2c')).toBe(id);
  });

  it('N-SET COMPLETED declares the set its series descriptions need', () => {
    const modifications = completedModifications({
      endedAt: new Date(2026, 2, 16, 9, 5, 7),
      performedSeries: [{ seriesInstanceUid: '1.2.3', seriesDescription: 'Thorax ärztlich', instances: [] }],
      fallbackProtocol: 'CT',
      mwlEncoding: 'ISO_IR 100',
    });
    expect(modifications['00080005']).toEqual({ vr: 'CS', Value: ['ISO_IR 100'] });
    expect(modifications['00400250']).toEqual({ vr: 'DA', Value: ['20260316'] });
    expect(modifications['00400251']).toEqual({ vr: 'TM', Value: ['090507'] });
  });
});
