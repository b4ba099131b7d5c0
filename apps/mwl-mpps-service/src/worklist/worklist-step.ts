import {
  ATTRIBUTES_BY_TAG,
  dicomJsonString,
  type DicomJson,
  type DicomJsonPersonName,
} from '@pacslink/dicom';
import type { WorklistTask } from '@pacslink/contracts';
import type { WorklistMatch } from '@pacslink/dimse';

/**
 * One scheduled procedure step of a worklist answer: what its task holds besides its own identity,
 * status and times. `warnings` names each value that could not be decoded, by keyword path, with
 * the set that was tried.
 */
export type WorklistStep = Omit<
  WorklistTask,
  'id' | 'pacsConfigId' | 'status' | 'mpps' | 'createdAt' | 'updatedAt'
>;

const Tag = {
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  AccessionNumber: '00080050',
  RequestedProcedureID: '00401001',
  RequestedProcedureDescription: '00321060',
  StudyInstanceUID: '0020000D',
  ScheduledProcedureStepSequence: '00400100',
  Modality: '00080060',
  ScheduledStationAETitle: '00400001',
  ScheduledProcedureStepStartDate: '00400002',
  ScheduledProcedureStepStartTime: '00400003',
  ScheduledProcedureStepDescription: '00400007',
  ScheduledProcedureStepID: '00400009',
} as const;

const text = (dataset: DicomJson, tag: string): string | null => dicomJsonString(dataset, tag) || null;

/** A Person Name as DICOM writes it: its component groups joined by '=', empty trailing ones left out. */
function personName(dataset: DicomJson): string | null {
  const value = dataset[Tag.PatientName]?.Value?.[0] as DicomJsonPersonName | null | undefined;
  if (value === null || value === undefined) return null;
  const groups = [value.Alphabetic ?? '', value.Ideographic ?? '', value.Phonetic ?? ''];
  while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
  return groups.length === 0 ? null : groups.join('=');
}

function keywordPath(path: readonly string[]): string {
  return path
    .map((tag) => ATTRIBUTES_BY_TAG.get(tag)?.keyword ?? `(${tag.slice(0, 4)},${tag.slice(4)})`)
    .join('.');
}

/**
 * The steps of one worklist answer: one per item of its Scheduled Procedure Step Sequence (PS3.4
 * K.6.1 answers one step per match; a PACS that puts several in one answer gets them all), none
 * when the sequence is missing or empty. `charset` names what undeclared text was decoded by.
 */
export function stepsOf(match: WorklistMatch, charset: string): WorklistStep[] {
  const { dataset } = match;
  const declared = dataset['00080005']?.Value !== undefined;
  const unsupported =
    match.unsupportedCharset === undefined
      ? []
      : [
          `the answer declares Specific Character Set ${match.unsupportedCharset.join('\\')}, which pacslink cannot decode: its text was read as ${charset}`,
        ];
  const undecodable = match.undecodable.map(
    (path) =>
      `${keywordPath(path)} cannot be decoded as ${declared ? "the answer's Specific Character Set" : charset}: it is shown as decoded, with replacement characters`,
  );
  const warnings = [...unsupported, ...undecodable];
  const items = (dataset[Tag.ScheduledProcedureStepSequence]?.Value ?? []) as DicomJson[];
  return items
    .filter((item) => item !== null)
    .map((item) => ({
      patientName: personName(dataset),
      patientId: text(dataset, Tag.PatientID),
      patientBirthDate: text(dataset, Tag.PatientBirthDate),
      patientSex: text(dataset, Tag.PatientSex),
      accessionNumber: text(dataset, Tag.AccessionNumber),
      requestedProcedureId: text(dataset, Tag.RequestedProcedureID),
      requestedProcedureDescription: text(dataset, Tag.RequestedProcedureDescription),
      studyInstanceUid: text(dataset, Tag.StudyInstanceUID),
      scheduledProcedureStepId: text(item, Tag.ScheduledProcedureStepID),
      scheduledProcedureStepDescription: text(item, Tag.ScheduledProcedureStepDescription),
      modality: text(item, Tag.Modality),
      scheduledStationAeTitle: text(item, Tag.ScheduledStationAETitle),
      scheduledStartDate: text(item, Tag.ScheduledProcedureStepStartDate),
      scheduledStartTime: text(item, Tag.ScheduledProcedureStepStartTime),
      warnings,
    }));
}

/**
 * The natural key of a step within its PACS configuration: Study Instance UID, Accession Number and
 * Scheduled Procedure Step ID together. A step ID alone is unique only within its requested
 * procedure (PS3.3 C.4.10), so two orders may both have step "1"; the study UID and accession tell
 * them apart, and none of the three changes while a step stays on the worklist. Undefined when the
 * step has none of them: such a step cannot be told from another and is not kept.
 */
export function stepKeyOf(step: WorklistStep): string | undefined {
  const parts = [step.studyInstanceUid, step.accessionNumber, step.scheduledProcedureStepId];
  if (parts.every((part) => part === null)) return undefined;
  // A backslash is the one character none of UI, SH holds (it separates values): no two keys collide.
  return parts.map((part) => part ?? '').join('\\');
}
