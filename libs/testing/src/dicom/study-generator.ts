import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  encodePart10,
  specificCharacterSetElement,
  writePart10File,
  type DicomDataset,
} from './dicom-writer';
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

export interface StudyOptions {
  series?: number;
  instancesPerSeries?: number;
  rows?: number;
  cols?: number;
  /**
   * Approximate size of each file in bytes (e.g. 9_400 or 524_288); picks rows and cols for 16-bit
   * pixels so the file lands within about sqrt(size) bytes of it. Overrides rows and cols.
   */
  instanceBytes?: number;
  patient?: PatientSpec;
  accessionNumber?: string;
  studyDescription?: string;
  referringPhysicianName?: string;
  /** YYYYMMDD, default today */
  studyDate?: string;
}

export interface GeneratedInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  instanceNumber: number;
  file: string;
  bytes: number;
}

export interface GeneratedSeries {
  seriesInstanceUid: string;
  seriesNumber: number;
  instances: GeneratedInstance[];
}

export interface GeneratedStudy {
  studyInstanceUid: string;
  accessionNumber: string;
  studyDescription: string;
  patient: Patient;
  /** Holds every file of this study and nothing else: `<outDir>/<StudyInstanceUID>/`. */
  directory: string;
  rows: number;
  cols: number;
  series: GeneratedSeries[];
  files: string[];
  totalBytes: number;
}

interface StudyContext {
  patient: Patient;
  studyInstanceUid: string;
  accessionNumber: string;
  studyDescription: string;
  referringPhysicianName: string;
  studyDate: string;
  studyTime: string;
}

interface InstanceContext {
  seriesInstanceUid: string;
  seriesNumber: number;
  frameOfReferenceUid: string;
  sopInstanceUid: string;
  instanceNumber: number;
  rows: number;
  cols: number;
}

const MAX_US = 0xffff;

function ctImageDataset(study: StudyContext, instance: InstanceContext, pixelData: Uint8Array): DicomDataset {
  const { patient } = study;
  const z = (instance.instanceNumber * 1.25).toFixed(2);
  return [
    ...specificCharacterSetElement(patient.charset),
    [Tag.ImageType, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']],
    [Tag.SOPClassUID, 'UI', SopClass.CTImageStorage],
    [Tag.SOPInstanceUID, 'UI', instance.sopInstanceUid],
    [Tag.StudyDate, 'DA', study.studyDate],
    [Tag.SeriesDate, 'DA', study.studyDate],
    [Tag.ContentDate, 'DA', study.studyDate],
    [Tag.StudyTime, 'TM', study.studyTime],
    [Tag.SeriesTime, 'TM', study.studyTime],
    [Tag.ContentTime, 'TM', study.studyTime],
    [Tag.AccessionNumber, 'SH', study.accessionNumber],
    [Tag.Modality, 'CS', 'CT'],
    [Tag.Manufacturer, 'LO', 'PACSLINK-TEST'],
    [Tag.ReferringPhysicianName, 'PN', study.referringPhysicianName],
    [Tag.StudyDescription, 'LO', study.studyDescription],
    [Tag.SeriesDescription, 'LO', `Series ${instance.seriesNumber}`],
    [Tag.PatientName, 'PN', patient.name],
    [Tag.PatientID, 'LO', patient.id],
    [Tag.PatientBirthDate, 'DA', patient.birthDate],
    [Tag.PatientSex, 'CS', patient.sex],
    // An unpaired body part, so Laterality (0020,0060) may be absent (PS3.3 C.7.3.1).
    [Tag.BodyPartExamined, 'CS', 'CHEST'],
    [Tag.SliceThickness, 'DS', '1.25'],
    [Tag.KVP, 'DS', '120'],
    [Tag.PatientPosition, 'CS', 'HFS'],
    [Tag.StudyInstanceUID, 'UI', study.studyInstanceUid],
    [Tag.SeriesInstanceUID, 'UI', instance.seriesInstanceUid],
    [Tag.StudyID, 'SH', '1'],
    [Tag.SeriesNumber, 'IS', String(instance.seriesNumber)],
    [Tag.AcquisitionNumber, 'IS', '1'],
    [Tag.InstanceNumber, 'IS', String(instance.instanceNumber)],
    [Tag.ImagePositionPatient, 'DS', ['-128', '-128', z]],
    [Tag.ImageOrientationPatient, 'DS', ['1', '0', '0', '0', '1', '0']],
    [Tag.FrameOfReferenceUID, 'UI', instance.frameOfReferenceUid],
    [Tag.PositionReferenceIndicator, 'LO', ''],
    [Tag.SliceLocation, 'DS', z],
    [Tag.SamplesPerPixel, 'US', 1],
    [Tag.PhotometricInterpretation, 'CS', 'MONOCHROME2'],
    [Tag.Rows, 'US', instance.rows],
    [Tag.Columns, 'US', instance.cols],
    [Tag.PixelSpacing, 'DS', ['0.5', '0.5']],
    [Tag.BitsAllocated, 'US', 16],
    [Tag.BitsStored, 'US', 12],
    [Tag.HighBit, 'US', 11],
    [Tag.PixelRepresentation, 'US', 0],
    [Tag.WindowCenter, 'DS', '40'],
    [Tag.WindowWidth, 'DS', '400'],
    [Tag.RescaleIntercept, 'DS', '-1024'],
    [Tag.RescaleSlope, 'DS', '1'],
    [Tag.PixelData, 'OW', pixelData],
  ];
}

/** A 12-bit gradient shifted by `seed`, so no two instances carry the same pixels. */
function gradientPixels(rows: number, cols: number, seed: number): Buffer {
  const pixels = Buffer.alloc(rows * cols * 2);
  for (let y = 0, offset = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++, offset += 2) {
      pixels.writeUInt16LE((x * 3 + y * 5 + seed * 17) & 0x0fff, offset);
    }
  }
  return pixels;
}

function dimensionsFor(targetBytes: number, study: StudyContext): { rows: number; cols: number } {
  const probe: InstanceContext = {
    seriesInstanceUid: newUid(),
    seriesNumber: 1,
    frameOfReferenceUid: newUid(),
    sopInstanceUid: newUid(),
    instanceNumber: 1,
    rows: 0,
    cols: 0,
  };
  const dataset = ctImageDataset(study, probe, new Uint8Array(0));
  const overhead = encodePart10(dataset, {
    sopClassUid: SopClass.CTImageStorage,
    sopInstanceUid: probe.sopInstanceUid,
  }).reduce((sum, chunk) => sum + chunk.length, 0);
  const pixels = Math.round((targetBytes - overhead) / 2);
  if (pixels < 1) throw new Error(`instanceBytes ${targetBytes} is below the ${overhead + 2}-byte minimum`);
  const cols = Math.ceil(Math.sqrt(pixels));
  const rows = Math.max(1, Math.round(pixels / cols));
  if (rows > MAX_US || cols > MAX_US) throw new Error(`instanceBytes ${targetBytes} is too large`);
  return { rows, cols };
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be an integer 1..${max}`);
  }
  return value;
}

/**
 * Writes one CT study (CT Image Storage, Explicit VR Little Endian) under
 * `<outDir>/<StudyInstanceUID>/seNN/iNNNN.dcm`, one file at a time; every call gets fresh UIDs.
 */
export async function generateStudy(outDir: string, options: StudyOptions = {}): Promise<GeneratedStudy> {
  const patient = resolvePatient(options.patient);
  const samples = sampleText(patient.charset);
  const study: StudyContext = {
    patient,
    studyInstanceUid: newUid(),
    accessionNumber: options.accessionNumber ?? randomId('A', 6),
    studyDescription: options.studyDescription ?? samples.studyDescription,
    referringPhysicianName: options.referringPhysicianName ?? samples.referringPhysicianName,
    studyDate: options.studyDate ?? dicomDate(),
    studyTime: dicomTime(),
  };
  const seriesCount = positiveInteger('series', options.series ?? 1);
  const instancesPerSeries = positiveInteger('instancesPerSeries', options.instancesPerSeries ?? 1);
  const { rows, cols } =
    options.instanceBytes === undefined
      ? {
          rows: positiveInteger('rows', options.rows ?? 64, MAX_US),
          cols: positiveInteger('cols', options.cols ?? 64, MAX_US),
        }
      : dimensionsFor(options.instanceBytes, study);

  const directory = join(outDir, study.studyInstanceUid);
  const result: GeneratedStudy = {
    studyInstanceUid: study.studyInstanceUid,
    accessionNumber: study.accessionNumber,
    studyDescription: study.studyDescription,
    patient,
    directory,
    rows,
    cols,
    series: [],
    files: [],
    totalBytes: 0,
  };
  for (let seriesNumber = 1; seriesNumber <= seriesCount; seriesNumber++) {
    const series: GeneratedSeries = { seriesInstanceUid: newUid(), seriesNumber, instances: [] };
    const frameOfReferenceUid = newUid();
    const seriesDir = join(directory, `se${String(seriesNumber).padStart(2, '0')}`);
    await mkdir(seriesDir, { recursive: true });
    for (let instanceNumber = 1; instanceNumber <= instancesPerSeries; instanceNumber++) {
      const instance: InstanceContext = {
        seriesInstanceUid: series.seriesInstanceUid,
        seriesNumber,
        frameOfReferenceUid,
        sopInstanceUid: newUid(),
        instanceNumber,
        rows,
        cols,
      };
      const pixels = gradientPixels(rows, cols, seriesNumber * 1000 + instanceNumber);
      const file = join(seriesDir, `i${String(instanceNumber).padStart(4, '0')}.dcm`);
      const bytes = await writePart10File(file, ctImageDataset(study, instance, pixels), {
        sopClassUid: SopClass.CTImageStorage,
        sopInstanceUid: instance.sopInstanceUid,
      });
      series.instances.push({
        sopClassUid: SopClass.CTImageStorage,
        sopInstanceUid: instance.sopInstanceUid,
        instanceNumber,
        file,
        bytes,
      });
      result.files.push(file);
      result.totalBytes += bytes;
    }
    result.series.push(series);
  }
  return result;
}
