import { MAX_IMPORT_INSTANCES, type ImportInstanceData } from '@pacslink/contracts';
import { isValidUid, type DicomJson } from '@pacslink/dicom';
import { find, type DimseConnectionOptions } from '@pacslink/dimse';
import { ImportPlanError } from './import-plan.errors';

/** The return keys of the plan's C-FIND at IMAGE level, as the manifest needs them. */
export const MANIFEST_KEYS = {
  SOPInstanceUID: '00080018',
  SeriesInstanceUID: '0020000E',
  SOPClassUID: '00080016',
} as const;

/** The first value of a UID attribute of a C-FIND match, when it is there and a UID. */
function uidOf(match: DicomJson, tag: string): string | undefined {
  const value = match[tag]?.Value?.[0];
  return typeof value === 'string' && isValidUid(value) ? value : undefined;
}

const SOP_CLASSES_IN_STUDY = '00080062';

/**
 * The one SOP class the PACS says the study holds (SOPClassesInStudy at STUDY level), or undefined
 * when it names none or several, or cannot say: the plan then asks each instance's class. Only a
 * cancellation fails it; any other failure leaves the plan's own C-FIND to meet (and report) it.
 */
export async function onlySopClassInStudy(
  connection: DimseConnectionOptions,
  studyInstanceUid: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    const [study] = await find(connection, {
      level: 'STUDY',
      keys: { StudyInstanceUID: studyInstanceUid },
      returnKeys: ['SOPClassesInStudy'],
      limit: 1,
      signal,
    });
    return study === undefined ? undefined : onlySopClassOf(study);
  } catch (error) {
    if (signal.aborted) throw error;
    return undefined;
  }
}

/** SOPClassesInStudy's value when it is exactly one valid UID. */
export function onlySopClassOf(study: DicomJson): string | undefined {
  const classes = study[SOP_CLASSES_IN_STUDY]?.Value ?? [];
  const [only] = classes;
  return classes.length === 1 && typeof only === 'string' && isValidUid(only) ? only : undefined;
}

/**
 * The plan's manifest from the PACS's IMAGE-level matches: every instance once, of `studySopClass`
 * when the study holds that one class only (its matches then do not carry SOPClassUID). A match without
 * its SOP Instance or Series Instance UID fails the plan, naming which; SOPClassUID is an optional
 * return key (DCMTK dcmqrscp never returns it): without it the instance goes without a class, and a
 * C-GET offers the common storage classes. More matches than MAX_IMPORT_INSTANCES fail the plan
 * too (`matches` may hold one more than the limit: the C-FIND stops there).
 */
export function manifestOf(matches: readonly DicomJson[], studySopClass?: string): ImportInstanceData[] {
  const manifest = new Map<string, ImportInstanceData>();
  for (const [index, match] of matches.entries()) {
    const sopInstanceUid = uidOf(match, MANIFEST_KEYS.SOPInstanceUID);
    const seriesInstanceUid = uidOf(match, MANIFEST_KEYS.SeriesInstanceUID);
    const sopClassUid = uidOf(match, MANIFEST_KEYS.SOPClassUID) ?? studySopClass;
    if (sopInstanceUid === undefined || seriesInstanceUid === undefined) {
      const missing = Object.entries({
        SOPInstanceUID: sopInstanceUid,
        SeriesInstanceUID: seriesInstanceUid,
      })
        .filter(([, uid]) => uid === undefined)
        .map(([keyword]) => `${keyword} (${tagText(MANIFEST_KEYS[keyword as keyof typeof MANIFEST_KEYS])})`);
      throw new ImportPlanError(
        `the PACS's C-FIND answer ${index + 1} at IMAGE level has no valid ${missing.join(', ')}: the import needs it for every instance`,
      );
    }
    manifest.set(sopInstanceUid, {
      sopInstanceUid,
      seriesInstanceUid,
      ...(sopClassUid === undefined ? {} : { sopClassUid }),
    });
    if (manifest.size > MAX_IMPORT_INSTANCES) {
      throw new ImportPlanError(
        `the PACS holds more than ${MAX_IMPORT_INSTANCES} instances of what was asked for: one import brings at most ${MAX_IMPORT_INSTANCES} (MAX_IMPORT_INSTANCES); import it series by series`,
      );
    }
  }
  return [...manifest.values()];
}

function tagText(tag: string): string {
  return `${tag.slice(0, 4)},${tag.slice(4)}`;
}
