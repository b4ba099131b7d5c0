import { characterSetDecoder, hexTag, uidProblem, uidText } from '@pacslink/dicom';
import { InvalidDicomError } from './invalid-dicom.error';
import { IndexedTag } from './part10-scanner';

/** What the store indexes of one instance, read from its meta header and dataset. */
export interface InstanceAttributes {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  modality?: string;
  studyDate?: string;
  accessionNumber?: string;
  studyDescription?: string;
  patientName?: string;
  patientId?: string;
}

type UidKeyword =
  'TransferSyntaxUID' | 'SOPClassUID' | 'SOPInstanceUID' | 'StudyInstanceUID' | 'SeriesInstanceUID';

/**
 * Validates and decodes the raw values a Part10Scanner found. Text is decoded per the dataset's
 * Specific Character Set (0008,0005); values are trimmed of their padding (PS3.5 6.2).
 */
export function instanceAttributes(values: ReadonlyMap<number, Buffer>): InstanceAttributes {
  const uid = (keyword: UidKeyword): string => {
    const raw = values.get(IndexedTag[keyword]);
    const where = `${keyword} ${hexTag(IndexedTag[keyword])}`;
    if (raw === undefined) throw new InvalidDicomError(`${where} is missing`);
    const value = uidText(raw);
    const problem = uidProblem(value);
    if (problem !== undefined) {
      throw new InvalidDicomError(`${where} "${printable(value)}" is not a valid UID: it ${problem}`);
    }
    return value;
  };
  const attributes = {
    transferSyntaxUid: uid('TransferSyntaxUID'),
    sopClassUid: uid('SOPClassUID'),
    sopInstanceUid: uid('SOPInstanceUID'),
    studyInstanceUid: uid('StudyInstanceUID'),
    seriesInstanceUid: uid('SeriesInstanceUID'),
  };
  crossCheck(values, IndexedTag.MediaStorageSOPInstanceUID, 'SOPInstanceUID', attributes.sopInstanceUid);
  crossCheck(values, IndexedTag.MediaStorageSOPClassUID, 'SOPClassUID', attributes.sopClassUid);

  const charsetValue = values.get(IndexedTag.SpecificCharacterSet);
  const charset = charsetValue === undefined ? undefined : charsetValue.toString('latin1').split('\\');
  const { decode } = characterSetDecoder(charset, undefined);
  const text = (tag: number, decodeText = true): string | undefined => {
    const raw = values.get(tag);
    if (raw === undefined) return undefined;
    const value = (decodeText ? decode(raw) : raw.toString('latin1')).replace(/^[\0 ]+|[\0 ]+$/g, '');
    return value === '' ? undefined : value;
  };
  return {
    ...attributes,
    modality: text(IndexedTag.Modality, false),
    studyDate: text(IndexedTag.StudyDate, false),
    accessionNumber: text(IndexedTag.AccessionNumber),
    studyDescription: text(IndexedTag.StudyDescription),
    patientName: text(IndexedTag.PatientName),
    patientId: text(IndexedTag.PatientID),
  };
}

/** PS3.10 7.1: the meta header's Media Storage SOP UIDs repeat the dataset's own. */
function crossCheck(
  values: ReadonlyMap<number, Buffer>,
  metaTag: number,
  datasetKeyword: string,
  datasetValue: string,
): void {
  const raw = values.get(metaTag);
  if (raw === undefined) {
    throw new InvalidDicomError(`the meta header has no ${hexTag(metaTag)} (PS3.10 7.1)`);
  }
  const metaValue = uidText(raw);
  if (metaValue !== datasetValue) {
    throw new InvalidDicomError(
      `the meta header's ${hexTag(metaTag)} "${printable(metaValue)}" differs from the dataset's ${datasetKeyword} "${datasetValue}"`,
    );
  }
}

/** A value as it may be quoted in a reason: control characters shown as escapes, at most 80 characters. */
function printable(value: string): string {
  const escaped = JSON.stringify(value).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 80)}…` : escaped;
}
