/**
 * The attributes pacslink puts in a Study Root C-FIND identifier (libs/dimse), and reads back with their VR
 * when an answer comes in Implicit VR Little Endian. The keys are those of PS3.4 C.6.2.1 (Study Root
 * Query/Retrieve Information Model: Table C.6-5 for the study level, patient attributes included;
 * Tables C.6-3 and C.6-4 for the series and composite object instance levels) plus the response-only attributes of C.4.1.2.3. It is an allowlist: an unknown
 * keyword is refused before anything is sent.
 */

import type { ValueRepresentation } from './dicom-element';

export type QueryLevel = 'STUDY' | 'SERIES' | 'IMAGE';

export interface AttributeDefinition {
  keyword: string;
  /** 8 upper-case hex digits, group then element: the DICOM JSON key */
  tag: string;
  vr: ValueRepresentation;
  /**
   * the Q/R level the key belongs to; 'ANY' for attributes every level may carry; 'WORKLIST' for
   * attributes of the Modality Worklist model only, which no Study Root query may use
   */
  level: KeyLevel;
}

export type KeyLevel = QueryLevel | 'ANY' | 'WORKLIST';

type Row = readonly [keyword: string, tag: string, vr: ValueRepresentation, level: KeyLevel];

const ROWS: readonly Row[] = [
  // Any level (PS3.4 C.4.1.1.3, C.4.1.2.3)
  ['SpecificCharacterSet', '00080005', 'CS', 'ANY'],
  ['QueryRetrieveLevel', '00080052', 'CS', 'ANY'],
  ['RetrieveAETitle', '00080054', 'AE', 'ANY'],
  ['InstanceAvailability', '00080056', 'CS', 'ANY'],
  ['TimezoneOffsetFromUTC', '00080201', 'SH', 'ANY'],
  ['RetrieveURL', '00081190', 'UR', 'ANY'],
  ['StorageMediaFileSetID', '00880130', 'SH', 'ANY'],
  ['StorageMediaFileSetUID', '00880140', 'UI', 'ANY'],
  // Patient (in the Study Root model: STUDY level, Table C.6-5)
  ['PatientName', '00100010', 'PN', 'STUDY'],
  ['PatientID', '00100020', 'LO', 'STUDY'],
  ['IssuerOfPatientID', '00100021', 'LO', 'STUDY'],
  ['PatientBirthDate', '00100030', 'DA', 'STUDY'],
  ['PatientBirthTime', '00100032', 'TM', 'STUDY'],
  ['PatientSex', '00100040', 'CS', 'STUDY'],
  ['OtherPatientIDs', '00101000', 'LO', 'STUDY'],
  ['OtherPatientNames', '00101001', 'PN', 'STUDY'],
  ['PatientAge', '00101010', 'AS', 'STUDY'],
  ['PatientSize', '00101020', 'DS', 'STUDY'],
  ['PatientWeight', '00101030', 'DS', 'STUDY'],
  ['EthnicGroup', '00102160', 'SH', 'STUDY'],
  ['Occupation', '00102180', 'SH', 'STUDY'],
  ['AdditionalPatientHistory', '001021B0', 'LT', 'STUDY'],
  ['PatientComments', '00104000', 'LT', 'STUDY'],
  ['NumberOfPatientRelatedStudies', '00201200', 'IS', 'STUDY'],
  ['NumberOfPatientRelatedSeries', '00201202', 'IS', 'STUDY'],
  ['NumberOfPatientRelatedInstances', '00201204', 'IS', 'STUDY'],
  // Study (Table C.6-5)
  ['StudyDate', '00080020', 'DA', 'STUDY'],
  ['StudyTime', '00080030', 'TM', 'STUDY'],
  ['AccessionNumber', '00080050', 'SH', 'STUDY'],
  ['IssuerOfAccessionNumberSequence', '00080051', 'SQ', 'STUDY'],
  ['ModalitiesInStudy', '00080061', 'CS', 'STUDY'],
  ['SOPClassesInStudy', '00080062', 'UI', 'STUDY'],
  ['InstitutionName', '00080080', 'LO', 'STUDY'],
  ['ReferringPhysicianName', '00080090', 'PN', 'STUDY'],
  ['StudyDescription', '00081030', 'LO', 'STUDY'],
  ['ProcedureCodeSequence', '00081032', 'SQ', 'STUDY'],
  ['NameOfPhysiciansReadingStudy', '00081060', 'PN', 'STUDY'],
  ['AdmittingDiagnosesDescription', '00081080', 'LO', 'STUDY'],
  ['StudyInstanceUID', '0020000D', 'UI', 'STUDY'],
  ['StudyID', '00200010', 'SH', 'STUDY'],
  ['NumberOfStudyRelatedSeries', '00201206', 'IS', 'STUDY'],
  ['NumberOfStudyRelatedInstances', '00201208', 'IS', 'STUDY'],
  // Series (Table C.6-3)
  ['SeriesDate', '00080021', 'DA', 'SERIES'],
  ['SeriesTime', '00080031', 'TM', 'SERIES'],
  ['Modality', '00080060', 'CS', 'SERIES'],
  ['Manufacturer', '00080070', 'LO', 'SERIES'],
  ['StationName', '00081010', 'SH', 'SERIES'],
  ['SeriesDescription', '0008103E', 'LO', 'SERIES'],
  ['InstitutionalDepartmentName', '00081040', 'LO', 'SERIES'],
  ['PerformingPhysicianName', '00081050', 'PN', 'SERIES'],
  ['OperatorsName', '00081070', 'PN', 'SERIES'],
  ['BodyPartExamined', '00180015', 'CS', 'SERIES'],
  ['ProtocolName', '00181030', 'LO', 'SERIES'],
  ['SeriesInstanceUID', '0020000E', 'UI', 'SERIES'],
  ['SeriesNumber', '00200011', 'IS', 'SERIES'],
  ['FrameOfReferenceUID', '00200052', 'UI', 'SERIES'],
  ['Laterality', '00200060', 'CS', 'SERIES'],
  ['NumberOfSeriesRelatedInstances', '00201209', 'IS', 'SERIES'],
  ['PerformedProcedureStepStartDate', '00400244', 'DA', 'SERIES'],
  ['PerformedProcedureStepStartTime', '00400245', 'TM', 'SERIES'],
  ['RequestAttributesSequence', '00400275', 'SQ', 'SERIES'],
  // Composite object instance (Table C.6-4)
  ['ImageType', '00080008', 'CS', 'IMAGE'],
  ['SOPClassUID', '00080016', 'UI', 'IMAGE'],
  ['SOPInstanceUID', '00080018', 'UI', 'IMAGE'],
  ['AcquisitionDate', '00080022', 'DA', 'IMAGE'],
  ['ContentDate', '00080023', 'DA', 'IMAGE'],
  ['AcquisitionTime', '00080032', 'TM', 'IMAGE'],
  ['ContentTime', '00080033', 'TM', 'IMAGE'],
  ['AvailableTransferSyntaxUID', '00083002', 'UI', 'IMAGE'],
  ['AcquisitionNumber', '00200012', 'IS', 'IMAGE'],
  ['InstanceNumber', '00200013', 'IS', 'IMAGE'],
  ['SliceLocation', '00201041', 'DS', 'IMAGE'],
  ['ImageComments', '00204000', 'LT', 'IMAGE'],
  ['NumberOfFrames', '00280008', 'IS', 'IMAGE'],
  ['PhotometricInterpretation', '00280004', 'CS', 'IMAGE'],
  ['Rows', '00280010', 'US', 'IMAGE'],
  ['Columns', '00280011', 'US', 'IMAGE'],
  ['BitsAllocated', '00280100', 'US', 'IMAGE'],
  // Common inside the sequences above (Code Sequence Macro, PS3.3 Table 8.8-1; HL7v2 Hierarchic
  // Designator Macro, Table 10-17; Request Attributes Sequence, Table 10-9)
  ['CodeValue', '00080100', 'SH', 'ANY'],
  ['CodingSchemeDesignator', '00080102', 'SH', 'ANY'],
  ['CodingSchemeVersion', '00080103', 'SH', 'ANY'],
  ['CodeMeaning', '00080104', 'LO', 'ANY'],
  ['LocalNamespaceEntityID', '00400031', 'UT', 'ANY'],
  ['UniversalEntityID', '00400032', 'UT', 'ANY'],
  ['UniversalEntityIDType', '00400033', 'CS', 'ANY'],
  ['ScheduledProcedureStepID', '00400009', 'SH', 'ANY'],
  ['RequestedProcedureID', '00401001', 'SH', 'ANY'],
  ['ScheduledProcedureStepDescription', '00400007', 'LO', 'ANY'],
  ['RequestedProcedureDescription', '00321060', 'LO', 'ANY'],
  // Modality Worklist only (PS3.4 Table K.6-1): known here so that an Implicit VR answer's Scheduled
  // Procedure Step Sequence is read as a sequence, not as UN bytes
  ['ScheduledProcedureStepSequence', '00400100', 'SQ', 'WORKLIST'],
  ['ScheduledStationAETitle', '00400001', 'AE', 'WORKLIST'],
  ['ScheduledProcedureStepStartDate', '00400002', 'DA', 'WORKLIST'],
  ['ScheduledProcedureStepStartTime', '00400003', 'TM', 'WORKLIST'],
];

export const ATTRIBUTES_BY_KEYWORD: ReadonlyMap<string, AttributeDefinition> = new Map(
  ROWS.map(([keyword, tag, vr, level]) => [keyword, { keyword, tag, vr, level }]),
);

export const ATTRIBUTES_BY_TAG: ReadonlyMap<string, AttributeDefinition> = new Map(
  [...ATTRIBUTES_BY_KEYWORD.values()].map((definition) => [definition.tag, definition]),
);

/** PS3.4 C.6.2.1: the unique key of each level of the Study Root model. */
export const UNIQUE_KEY: Readonly<Record<QueryLevel, string>> = Object.freeze({
  STUDY: 'StudyInstanceUID',
  SERIES: 'SeriesInstanceUID',
  IMAGE: 'SOPInstanceUID',
});

const LEVEL_DEPTH: Readonly<Record<KeyLevel, number>> = {
  ANY: 0,
  STUDY: 1,
  SERIES: 2,
  IMAGE: 3,
  WORKLIST: Number.POSITIVE_INFINITY,
};

/** Whether a key of `keyLevel` may appear in a query at `queryLevel` (not below it: PS3.4 C.4.1.2.2.1). */
export function keyAllowedAtLevel(keyLevel: KeyLevel, queryLevel: QueryLevel): boolean {
  return LEVEL_DEPTH[keyLevel] <= LEVEL_DEPTH[queryLevel];
}

/**
 * The VR of a tag when the transfer syntax does not say (Implicit VR): the dictionary, private
 * creators (gggg,0010-00FF of an odd group: LO), group lengths (UL); anything else is UN.
 */
export function implicitVr(tag: string): ValueRepresentation {
  const known = ATTRIBUTES_BY_TAG.get(tag);
  if (known) return known.vr;
  const group = parseInt(tag.slice(0, 4), 16);
  const element = parseInt(tag.slice(4), 16);
  if (element === 0) return 'UL';
  if (group % 2 === 1 && element >= 0x10 && element <= 0xff) return 'LO';
  return 'UN';
}
