import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { specificCharacterSetElement, writePart10File, type DicomDataset } from './dicom-writer';
import {
  dicomDate,
  dicomTime,
  randomId,
  resolvePatient,
  sampleText,
  type Patient,
  type PatientSpec,
} from './sample-values';
import { Tag } from './tags';
import { newUid, SopClass } from './uids';

export interface WorklistOptions {
  /** `patient.charset` is the encoding of every text value in the file. */
  patient?: PatientSpec;
  accessionNumber?: string;
  studyInstanceUid?: string;
  modality?: string;
  scheduledStationAETitle?: string;
  /** YYYYMMDD, default today */
  scheduledDate?: string;
  /** HHMMSS, default now */
  scheduledTime?: string;
  requestedProcedureDescription?: string;
  scheduledProcedureStepDescription?: string;
  /** File name inside outDir, default `<AccessionNumber>.wl`. */
  fileName?: string;
}

export interface GeneratedWorklist {
  file: string;
  bytes: number;
  patient: Patient;
  accessionNumber: string;
  studyInstanceUid: string;
  requestedProcedureId: string;
  scheduledProcedureStepId: string;
  scheduledStationAETitle: string;
  scheduledDate: string;
}

/**
 * Writes one Modality Worklist item as a Part 10 `.wl` file, the form both DCMTK `wlmscpfs` and
 * Orthanc's ModalityWorklists plugin serve from a folder.
 */
export async function generateWorklist(
  outDir: string,
  options: WorklistOptions = {},
): Promise<GeneratedWorklist> {
  const patient = resolvePatient(options.patient);
  const samples = sampleText(patient.charset);
  const accessionNumber = options.accessionNumber ?? randomId('W', 6);
  const studyInstanceUid = options.studyInstanceUid ?? newUid();
  const requestedProcedureId = randomId('RP', 4);
  const scheduledProcedureStepId = randomId('SPS', 4);
  const scheduledStationAETitle = options.scheduledStationAETitle ?? 'NODESCU';
  const scheduledDate = options.scheduledDate ?? dicomDate();
  const dataset: DicomDataset = [
    ...specificCharacterSetElement(patient.charset),
    [Tag.AccessionNumber, 'SH', accessionNumber],
    [Tag.ReferringPhysicianName, 'PN', samples.referringPhysicianName],
    [Tag.PatientName, 'PN', patient.name],
    [Tag.PatientID, 'LO', patient.id],
    [Tag.PatientBirthDate, 'DA', patient.birthDate],
    [Tag.PatientSex, 'CS', patient.sex],
    [Tag.StudyInstanceUID, 'UI', studyInstanceUid],
    [
      Tag.RequestedProcedureDescription,
      'LO',
      options.requestedProcedureDescription ?? samples.studyDescription,
    ],
    [
      Tag.ScheduledProcedureStepSequence,
      'SQ',
      [
        [
          [Tag.Modality, 'CS', options.modality ?? 'CT'],
          [Tag.ScheduledStationAETitle, 'AE', scheduledStationAETitle],
          [Tag.ScheduledProcedureStepStartDate, 'DA', scheduledDate],
          [Tag.ScheduledProcedureStepStartTime, 'TM', options.scheduledTime ?? dicomTime()],
          [Tag.ScheduledPerformingPhysicianName, 'PN', samples.performingPhysicianName],
          [
            Tag.ScheduledProcedureStepDescription,
            'LO',
            options.scheduledProcedureStepDescription ?? samples.procedureDescription,
          ],
          [Tag.ScheduledProcedureStepID, 'SH', scheduledProcedureStepId],
          [Tag.ScheduledStationName, 'SH', 'CT-ROOM-1'],
        ],
      ],
    ],
    [Tag.RequestedProcedureID, 'SH', requestedProcedureId],
    [Tag.RequestedProcedurePriority, 'SH', 'ROUTINE'],
  ];
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, options.fileName ?? `${accessionNumber}.wl`);
  // A worklist item has no SOP Instance of its own; the meta header still needs one.
  const bytes = await writePart10File(file, dataset, {
    sopClassUid: SopClass.ModalityWorklistInformationModelFind,
    sopInstanceUid: newUid(),
  });
  return {
    file,
    bytes,
    patient,
    accessionNumber,
    studyInstanceUid,
    requestedProcedureId,
    scheduledProcedureStepId,
    scheduledStationAETitle,
    scheduledDate,
  };
}
