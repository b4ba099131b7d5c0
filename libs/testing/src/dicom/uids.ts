import { randomUUID } from 'node:crypto';

export const SopClass = {
  CTImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  MultiFrameGrayscaleWordSecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7.3',
  ModalityWorklistInformationModelFind: '1.2.840.10008.5.1.4.31',
} as const;

export const TransferSyntax = {
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
} as const;

/** A fresh UID under the 2.25 root: the UUID read as one decimal integer (PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}
