/** UIDs this library negotiates (PS3.6 Annex A). */
export const SopClassUid = Object.freeze({
  Verification: '1.2.840.10008.1.1',
  StudyRootQueryRetrieveInformationModelFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootQueryRetrieveInformationModelMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootQueryRetrieveInformationModelGet: '1.2.840.10008.5.1.4.1.2.2.3',
  /** PS3.4 K.6.1: Modality Worklist Information Model - FIND */
  ModalityWorklistInformationModelFind: '1.2.840.10008.5.1.4.31',
  /** PS3.4 F.7: N-CREATE and N-SET of a performed procedure step */
  ModalityPerformedProcedureStep: '1.2.840.10008.3.1.2.3.3',
} as const);

export const TransferSyntaxUid = Object.freeze({
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
} as const);

/** The name a person knows a service by, for messages. */
export function serviceName(abstractSyntaxUid: string): string {
  switch (abstractSyntaxUid) {
    case SopClassUid.Verification:
      return 'Verification';
    case SopClassUid.StudyRootQueryRetrieveInformationModelFind:
      return 'Study Root Query/Retrieve (C-FIND)';
    case SopClassUid.StudyRootQueryRetrieveInformationModelMove:
      return 'Study Root Query/Retrieve (C-MOVE)';
    case SopClassUid.StudyRootQueryRetrieveInformationModelGet:
      return 'Study Root Query/Retrieve (C-GET)';
    case SopClassUid.ModalityPerformedProcedureStep:
      return 'Modality Performed Procedure Step';
    case SopClassUid.ModalityWorklistInformationModelFind:
      return 'Modality Worklist (C-FIND)';
    default:
      return sopClassName(abstractSyntaxUid);
  }
}

/** Storage SOP classes a person may meet in an export, by name (PS3.4 B.5, PS3.6 Annex A). */
const STORAGE_SOP_CLASS_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '1.2.840.10008.5.1.4.1.1.1': 'CR Image Storage',
  '1.2.840.10008.5.1.4.1.1.1.1': 'Digital X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.2': 'Digital Mammography X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.2': 'CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.3.1': 'Ultrasound Multi-frame Image Storage',
  '1.2.840.10008.5.1.4.1.1.4': 'MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.4.1': 'Enhanced MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.6.1': 'Ultrasound Image Storage',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.12.1': 'X-Ray Angiographic Image Storage',
  '1.2.840.10008.5.1.4.1.1.20': 'Nuclear Medicine Image Storage',
  '1.2.840.10008.5.1.4.1.1.88.11': 'Basic Text SR Storage',
  '1.2.840.10008.5.1.4.1.1.88.22': 'Enhanced SR Storage',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF Storage',
  '1.2.840.10008.5.1.4.1.1.128': 'Positron Emission Tomography Image Storage',
  '1.2.840.10008.5.1.4.1.1.481.1': 'RT Image Storage',
  '1.2.840.10008.5.1.4.1.1.481.2': 'RT Dose Storage',
  '1.2.840.10008.5.1.4.1.1.481.3': 'RT Structure Set Storage',
  '1.2.840.10008.5.1.4.1.1.481.5': 'RT Plan Storage',
});

/** "CT Image Storage", or the UID itself for a class without a name here. */
export function sopClassName(uid: string): string {
  return STORAGE_SOP_CLASS_NAMES[uid] ?? `SOP class ${uid}`;
}

const TRANSFER_SYNTAX_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
});

/** "JPEG Baseline", or the UID itself for a syntax without a name here. */
export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAX_NAMES[uid] ?? `transfer syntax ${uid}`;
}
