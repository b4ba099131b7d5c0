import { COMMON_STORAGE_SOP_CLASSES } from '@pacslink/dicom';
import { STORABLE_TRANSFER_SYNTAXES } from '@pacslink/store';
import { storageContextsFor } from './dimse-retrieval';

function instancesOf(sopClasses: number) {
  return Array.from({ length: sopClasses * 2 }, (_, n) => ({
    sopInstanceUid: `1.2.3.${n}`,
    seriesInstanceUid: '1.2.3',
    sopClassUid: `1.2.840.10008.5.1.4.1.1.${n % sopClasses}`,
  }));
}

describe('storageContextsFor', () => {
  it('offers each SOP class once, in every transfer syntax the store keeps', () => {
    expect(storageContextsFor(instancesOf(2))).toEqual({
      storageSopClasses: ['1.2.840.10008.5.1.4.1.1.0', '1.2.840.10008.5.1.4.1.1.1'],
      transferSyntaxes: [...STORABLE_TRANSFER_SYNTAXES],
    });
  });

  it('cuts the syntaxes, uncompressed first, so that one association holds the contexts (127)', () => {
    const { storageSopClasses, transferSyntaxes } = storageContextsFor(instancesOf(10));
    expect(storageSopClasses).toHaveLength(10);
    expect(storageSopClasses.length * transferSyntaxes.length).toBeLessThanOrEqual(127);
    expect(transferSyntaxes).toEqual(STORABLE_TRANSFER_SYNTAXES.slice(0, 12));
  });

  it('an instance without a SOP class adds the common storage classes, within one association', () => {
    const known = instancesOf(1);
    const { storageSopClasses, transferSyntaxes } = storageContextsFor([
      ...known,
      { sopInstanceUid: '1.2.3.99', seriesInstanceUid: '1.2.3' },
    ]);
    expect(storageSopClasses).toEqual([known[0].sopClassUid, ...COMMON_STORAGE_SOP_CLASSES]);
    expect(storageSopClasses.length * transferSyntaxes.length).toBeLessThanOrEqual(127);
    expect(transferSyntaxes[0]).toBe(STORABLE_TRANSFER_SYNTAXES[0]);
  });
});
