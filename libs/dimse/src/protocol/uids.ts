/** UIDs this library negotiates (PS3.6 Annex A). */
export const SopClassUid = Object.freeze({
  Verification: '1.2.840.10008.1.1',
  StudyRootQueryRetrieveInformationModelFind: '1.2.840.10008.5.1.4.1.2.2.1',
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
    default:
      return abstractSyntaxUid;
  }
}
