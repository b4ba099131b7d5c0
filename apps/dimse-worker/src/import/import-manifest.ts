import { MAX_IMPORT_INSTANCES, type ImportInstanceData } from '@pacslink/contracts';
import { isValidUid, type DicomJson } from '@pacslink/dicom';
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

/**
 * The plan's manifest from the PACS's IMAGE-level matches: every instance once. A match without
 * its SOP Instance or Series Instance UID fails the plan, naming which; SOPClassUID is an optional
 * return key (DCMTK dcmqrscp never returns it): without it the instance goes without a class, and a
 * C-GET offers the common storage classes. More matches than MAX_IMPORT_INSTANCES fail the plan
 * too (`matches` may hold one more than the limit: the C-FIND stops there).
 */
export function manifestOf(matches: readonly DicomJson[]): ImportInstanceData[] {
  const manifest = new Map<string, ImportInstanceData>();
  for (const [index, match] of matches.entries()) {
    const sopInstanceUid = uidOf(match, MANIFEST_KEYS.SOPInstanceUID);
    const seriesInstanceUid = uidOf(match, MANIFEST_KEYS.SeriesInstanceUID);
    const sopClassUid = uidOf(match, MANIFEST_KEYS.SOPClassUID);
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
