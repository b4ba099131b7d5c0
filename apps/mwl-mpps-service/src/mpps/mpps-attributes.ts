import {
  encodeText,
  ENCODABLE_CHARACTER_SETS,
  isValidUid,
  type DicomJson,
  type EncodableCharacterSet,
} from '@pacslink/dicom';
import {
  DiscontinuationReasons,
  type DiscontinuationReason,
  type PerformedSeriesData,
  type WorklistTask,
} from '@pacslink/contracts';

/** Modality Performed Procedure Step SOP Class (PS3.4 F.7.1). */
export const MPPS_SOP_CLASS_UID = '1.2.840.10008.3.1.2.3.3';

/** The attributes of PS3.4 Table F.7.2-1 this service writes, by tag. */
const Tag = {
  SpecificCharacterSet: '00080005',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ReferencedPatientSequence: '00081120',
  ReferencedStudySequence: '00081110',
  ProcedureCodeSequence: '00081032',
  ReferencedImageSequence: '00081140',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  RetrieveAETitle: '00080054',
  SeriesDescription: '0008103E',
  PerformingPhysicianName: '00081050',
  OperatorsName: '00081070',
  CodeValue: '00080100',
  CodingSchemeDesignator: '00080102',
  CodeMeaning: '00080104',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  ProtocolName: '00181030',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  RequestedProcedureDescription: '00321060',
  ScheduledProcedureStepDescription: '00400007',
  ScheduledProtocolCodeSequence: '00400008',
  ScheduledProcedureStepID: '00400009',
  ReferencedNonImageCompositeSOPInstanceSequence: '00400220',
  PerformedStationAETitle: '00400241',
  PerformedStationName: '00400242',
  PerformedLocation: '00400243',
  PerformedProcedureStepStartDate: '00400244',
  PerformedProcedureStepStartTime: '00400245',
  PerformedProcedureStepEndDate: '00400250',
  PerformedProcedureStepEndTime: '00400251',
  PerformedProcedureStepStatus: '00400252',
  PerformedProcedureStepID: '00400253',
  PerformedProcedureStepDescription: '00400254',
  PerformedProcedureTypeDescription: '00400255',
  PerformedProtocolCodeSequence: '00400260',
  ScheduledStepAttributesSequence: '00400270',
  PerformedProcedureStepDiscontinuationReasonCodeSequence: '00400281',
  PerformedSeriesSequence: '00400340',
  RequestedProcedureID: '00401001',
} as const;

type Element = DicomJson[string];

/** A value, or the element present and empty (Type 2: PS3.5 7.4.3). */
function value(vr: string, text: string | null | undefined): Element {
  return text === null || text === undefined || text === '' ? { vr } : { vr, Value: [text] };
}

function personName(text: string | null): Element {
  if (text === null || text === '') return { vr: 'PN' };
  const [Alphabetic, Ideographic, Phonetic] = text.split('=');
  return {
    vr: 'PN',
    Value: [
      {
        ...(Alphabetic ? { Alphabetic } : {}),
        ...(Ideographic ? { Ideographic } : {}),
        ...(Phonetic ? { Phonetic } : {}),
      },
    ],
  };
}

const emptySequence: Element = { vr: 'SQ' };

/** DA and TM of `at` in the local time of this process, as DICOM dates and times are (PS3.5 6.2). */
export function dicomDateTime(at: Date): { date: string; time: string } {
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    date: `${at.getFullYear()}${two(at.getMonth() + 1)}${two(at.getDate())}`,
    time: `${two(at.getHours())}${two(at.getMinutes())}${two(at.getSeconds())}`,
  };
}

/**
 * The Specific Character Set of a request whose text is `texts`: none when all of it is ASCII,
 * else the PACS's own (mwlEncoding) when it can carry every value, else ISO_IR 192.
 */
export function requestCharset(
  texts: readonly (string | null | undefined)[],
  mwlEncoding: string,
): string | undefined {
  const present = texts.filter((text): text is string => typeof text === 'string' && text !== '');
  if (present.every((text) => [...text].every((char) => char < '\u0080'))) return undefined;
  const own = ENCODABLE_CHARACTER_SETS.find((term: EncodableCharacterSet) => term === mwlEncoding);
  if (own !== undefined && present.every((text) => 'bytes' in encodeText(text, own))) return own;
  return 'ISO_IR 192';
}

function withCharset(dataSet: DicomJson, charset: string | undefined): DicomJson {
  return charset === undefined
    ? dataSet
    : { [Tag.SpecificCharacterSet]: { vr: 'CS', Value: [charset] }, ...dataSet };
}

/** A Performed Procedure Step ID (SH, 16 characters) of the task: its id's first 16 hex digits. */
export function ppsIdOf(taskId: string): string {
  return taskId.replaceAll('-', '').slice(0, 16).toUpperCase();
}

export interface InProgressOptions {
  /** Performed Station AE Title: the AE title pacslink calls the MPPS SCP from. */
  stationAeTitle: string;
  startedAt: Date;
  mwlEncoding: string;
}

/**
 * The N-CREATE Attribute List of PS3.4 Table F.7.2-1, status IN PROGRESS: the Scheduled Step
 * Attributes Sequence from the task, its patient, our station, the PPS ID, start date and time,
 * modality, an empty Performed Series Sequence, and every Type 2 attribute present (empty when the
 * task has no value). Attributes the table leaves to N-SET (end date and time) are present, empty.
 */
export function inProgressAttributes(task: WorklistTask, options: InProgressOptions): DicomJson {
  const { date, time } = dicomDateTime(options.startedAt);
  const texts = [
    task.patientName,
    task.patientId,
    task.accessionNumber,
    task.requestedProcedureId,
    task.requestedProcedureDescription,
    task.scheduledProcedureStepId,
    task.scheduledProcedureStepDescription,
  ];
  const scheduledStep: DicomJson = {
    [Tag.AccessionNumber]: value('SH', task.accessionNumber),
    [Tag.ReferencedStudySequence]: emptySequence,
    // Type 1 in the item: a task without a valid study UID cannot be started (checked by the caller).
    [Tag.StudyInstanceUID]: value('UI', task.studyInstanceUid),
    [Tag.RequestedProcedureDescription]: value('LO', task.requestedProcedureDescription),
    [Tag.ScheduledProcedureStepDescription]: value('LO', task.scheduledProcedureStepDescription),
    [Tag.ScheduledProtocolCodeSequence]: emptySequence,
    [Tag.ScheduledProcedureStepID]: value('SH', task.scheduledProcedureStepId),
    [Tag.RequestedProcedureID]: value('SH', task.requestedProcedureId),
  };
  return withCharset(
    {
      [Tag.Modality]: value('CS', task.modality ?? 'OT'),
      [Tag.ProcedureCodeSequence]: emptySequence,
      [Tag.ReferencedPatientSequence]: emptySequence,
      [Tag.PatientName]: personName(task.patientName),
      [Tag.PatientID]: value('LO', task.patientId),
      [Tag.PatientBirthDate]: value('DA', task.patientBirthDate),
      [Tag.PatientSex]: value('CS', task.patientSex),
      [Tag.StudyID]: { vr: 'SH' },
      [Tag.PerformedStationAETitle]: value('AE', options.stationAeTitle),
      [Tag.PerformedStationName]: { vr: 'SH' },
      [Tag.PerformedLocation]: { vr: 'SH' },
      [Tag.PerformedProcedureStepStartDate]: value('DA', date),
      [Tag.PerformedProcedureStepStartTime]: value('TM', time),
      [Tag.PerformedProcedureStepEndDate]: { vr: 'DA' },
      [Tag.PerformedProcedureStepEndTime]: { vr: 'TM' },
      [Tag.PerformedProcedureStepStatus]: value('CS', 'IN PROGRESS'),
      [Tag.PerformedProcedureStepID]: value('SH', ppsIdOf(task.id)),
      [Tag.PerformedProcedureStepDescription]: value('LO', task.scheduledProcedureStepDescription),
      [Tag.PerformedProcedureTypeDescription]: value('LO', task.requestedProcedureDescription),
      [Tag.PerformedProtocolCodeSequence]: emptySequence,
      [Tag.ScheduledStepAttributesSequence]: { vr: 'SQ', Value: [scheduledStep] },
      [Tag.PerformedSeriesSequence]: emptySequence,
    },
    requestCharset(texts, options.mwlEncoding),
  );
}

/**
 * SOP classes that are not images go to the Referenced Non-Image Composite SOP Instance Sequence
 * (PS3.4 F.7.2-1): structured reports, presentation states, encapsulated documents.
 */
const NON_IMAGE_CLASS_ROOTS = [
  '1.2.840.10008.5.1.4.1.1.88.',
  '1.2.840.10008.5.1.4.1.1.11.',
  '1.2.840.10008.5.1.4.1.1.104.',
];

function references(instances: PerformedSeriesData['instances']): Element {
  return instances.length === 0
    ? emptySequence
    : {
        vr: 'SQ',
        Value: instances.map((instance) => ({
          [Tag.ReferencedSOPClassUID]: value('UI', instance.sopClassUid),
          [Tag.ReferencedSOPInstanceUID]: value('UI', instance.sopInstanceUid),
        })),
      };
}

/** The Performed Series Sequence: each series' UID, protocol name (Type 1) and its instances. */
function performedSeriesSequence(series: readonly PerformedSeriesData[], fallbackProtocol: string): Element {
  if (series.length === 0) return emptySequence;
  return {
    vr: 'SQ',
    Value: series.map((item) => {
      const isNonImage = (uid: string) => NON_IMAGE_CLASS_ROOTS.some((root) => uid.startsWith(root));
      return {
        [Tag.RetrieveAETitle]: { vr: 'AE' },
        [Tag.SeriesDescription]: value('LO', item.seriesDescription),
        [Tag.PerformingPhysicianName]: { vr: 'PN' },
        [Tag.OperatorsName]: { vr: 'PN' },
        [Tag.ReferencedImageSequence]: references(item.instances.filter((i) => !isNonImage(i.sopClassUid))),
        [Tag.ProtocolName]: value('LO', item.protocolName || fallbackProtocol),
        [Tag.SeriesInstanceUID]: value('UI', item.seriesInstanceUid),
        [Tag.ReferencedNonImageCompositeSOPInstanceSequence]: references(
          item.instances.filter((i) => isNonImage(i.sopClassUid)),
        ),
      };
    }),
  };
}

function seriesTexts(series: readonly PerformedSeriesData[]): string[] {
  return series.flatMap((item) => [item.seriesDescription ?? '', item.protocolName ?? '']);
}

/**
 * The Protocol Name a series is given when its own is not known (Type 1 in the item): the step's
 * description, else the modality. Not a patient's name.
 */
export function fallbackProtocolOf(task: WorklistTask): string {
  return (
    task.scheduledProcedureStepDescription || task.requestedProcedureDescription || task.modality || 'UNKNOWN'
  );
}

export interface FinalOptions {
  endedAt: Date;
  performedSeries: readonly PerformedSeriesData[];
  fallbackProtocol: string;
  mwlEncoding: string;
}

/** N-SET COMPLETED (PS3.4 F.7.2.2): status, end date and time, the Performed Series Sequence. */
export function completedModifications(options: FinalOptions): DicomJson {
  const { date, time } = dicomDateTime(options.endedAt);
  return withCharset(
    {
      [Tag.PerformedProcedureStepEndDate]: value('DA', date),
      [Tag.PerformedProcedureStepEndTime]: value('TM', time),
      [Tag.PerformedProcedureStepStatus]: value('CS', 'COMPLETED'),
      [Tag.PerformedSeriesSequence]: performedSeriesSequence(
        options.performedSeries,
        options.fallbackProtocol,
      ),
    },
    requestCharset([...seriesTexts(options.performedSeries), options.fallbackProtocol], options.mwlEncoding),
  );
}

/** N-SET DISCONTINUED with its reason (CID 9300) and what was performed, if anything. */
export function discontinuedModifications(
  options: FinalOptions & { reason: DiscontinuationReason },
): DicomJson {
  const { date, time } = dicomDateTime(options.endedAt);
  return withCharset(
    {
      [Tag.PerformedProcedureStepEndDate]: value('DA', date),
      [Tag.PerformedProcedureStepEndTime]: value('TM', time),
      [Tag.PerformedProcedureStepStatus]: value('CS', 'DISCONTINUED'),
      [Tag.PerformedProcedureStepDiscontinuationReasonCodeSequence]: {
        vr: 'SQ',
        Value: [
          {
            [Tag.CodeValue]: value('SH', options.reason),
            [Tag.CodingSchemeDesignator]: value('SH', 'DCM'),
            [Tag.CodeMeaning]: value('LO', DiscontinuationReasons[options.reason]),
          },
        ],
      },
      ...(options.performedSeries.length === 0
        ? {}
        : {
            [Tag.PerformedSeriesSequence]: performedSeriesSequence(
              options.performedSeries,
              options.fallbackProtocol,
            ),
          }),
    },
    requestCharset([...seriesTexts(options.performedSeries), options.fallbackProtocol], options.mwlEncoding),
  );
}

/** Why a task cannot have an MPPS (F.7.2-1: the Study Instance UID of its step is Type 1), or undefined. */
export function unstartableReason(task: WorklistTask): string | undefined {
  if (task.studyInstanceUid === null || !isValidUid(task.studyInstanceUid)) {
    return `task ${task.id} has no valid Study Instance UID, which an MPPS's Scheduled Step Attributes Sequence requires (PS3.4 F.7.2-1)`;
  }
  return undefined;
}
