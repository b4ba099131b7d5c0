import { InvalidDicomError } from './invalid-dicom.error';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/**
 * Transfer syntaxes whose dataset is not plain little endian: refused rather than half-parsed.
 * Big Endian is retired (PS3.5 A.3) and no modality we meet sends it; a deflated dataset (PS3.5
 * A.5) would have to be inflated to be indexed, and the peers we export to would get it unchanged.
 */
const REFUSED: Readonly<Record<string, string>> = Object.freeze({
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian (retired, PS3.5 A.3)',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
});

/**
 * Whether the dataset of a file in this transfer syntax is encoded with explicit VRs. Every
 * syntax but Implicit VR Little Endian encodes the dataset as Explicit VR Little Endian; the
 * compressed ones differ only in the encapsulated Pixel Data (PS3.5 A.4).
 */
export function datasetHasExplicitVr(transferSyntaxUid: string): boolean {
  const refused = REFUSED[transferSyntaxUid];
  if (refused !== undefined) {
    throw new InvalidDicomError(
      `transfer syntax ${transferSyntaxUid} (${refused}) is not supported: send the file in Explicit or Implicit VR Little Endian`,
    );
  }
  return transferSyntaxUid !== IMPLICIT_VR_LITTLE_ENDIAN;
}
