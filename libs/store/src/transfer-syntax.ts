import { InvalidDicomError } from './invalid-dicom.error';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/**
 * What a Storage SCP accepts into the store (PS3.5 A.4, PS3.6 Annex A): both uncompressed little
 * endian syntaxes and the encapsulated ones in common use, kept as they arrive (never transcoded).
 */
export const STORABLE_TRANSFER_SYNTAXES: readonly string[] = Object.freeze([
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  '1.2.840.10008.1.2.4.50', // JPEG Baseline (Process 1)
  '1.2.840.10008.1.2.4.51', // JPEG Extended (Process 2 & 4)
  '1.2.840.10008.1.2.4.57', // JPEG Lossless, Non-Hierarchical (Process 14)
  '1.2.840.10008.1.2.4.70', // JPEG Lossless, First-Order Prediction (Process 14 [SV1])
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 (Lossless Only)
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.100', // MPEG2 Main Profile / Main Level
  '1.2.840.10008.1.2.4.102', // MPEG-4 AVC/H.264 High Profile / Level 4.1
]);

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
