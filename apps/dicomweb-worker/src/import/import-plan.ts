import { MAX_IMPORT_INSTANCES, type ImportInstanceData } from '@pacslink/contracts';
import { dicomJsonString, hexTag, isValidUid, type DicomJson } from '@pacslink/dicom';
import { DicomwebError, DicomwebErrorCode, type QidoQuery } from '@pacslink/dicomweb';

/** A QIDO-RS search with the configured endpoint (DicomwebClient.qido). */
export type QidoSearch = (query: QidoQuery, signal: AbortSignal) => Promise<DicomJson[]>;

/** What the PACS answered cannot be planned from, and asking again will not change it. */
export class ImportPlanError extends Error {
  override readonly name = 'ImportPlanError';
}

/** Instances asked for per QIDO-RS request (dcm4chee caps answers at 1000 by default). */
export const QIDO_PAGE = 1000;

const Tag = {
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  SeriesInstanceUID: '0020000E',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
} as const;

export interface PlanRequest {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
}

/**
 * The import's manifest: every instance of the study (or series) by QIDO-RS, paged with
 * limit/offset until a page brings nothing new (a server that ignores offset answers the same
 * page again; one that ignores limit answers everything at once). Servers cap answers silently:
 * Orthanc 1.10 with LimitFindInstances answers at most that many (+1) and no Warning header, and
 * an offset past its cap finds nothing. So the count the study (series) level says it holds is
 * the check: a manifest short of it is a permanent failure that names the cap, not a partial import.
 */
export async function planImport(
  qido: QidoSearch,
  request: PlanRequest,
  signal: AbortSignal,
  maxInstances = MAX_IMPORT_INSTANCES,
): Promise<ImportInstanceData[]> {
  const expected = await expectedCount(qido, request, signal);
  const what = describe(request);
  const manifest = new Map<string, ImportInstanceData>();
  for (let offset = 0; ;) {
    const page = await qido(
      {
        level: 'instances',
        studyInstanceUid: request.studyInstanceUid,
        seriesInstanceUid: request.seriesInstanceUid,
        limit: QIDO_PAGE,
        offset,
      },
      signal,
    );
    let added = 0;
    page.forEach((dataset, index) => {
      const instance = manifestEntry(dataset, `instance ${offset + index + 1} of ${what}`);
      if (manifest.has(instance.sopInstanceUid)) return;
      manifest.set(instance.sopInstanceUid, instance);
      added += 1;
    });
    if (manifest.size > maxInstances) {
      throw new ImportPlanError(
        `${what} holds more than ${maxInstances} instances, the most one import may bring (MAX_IMPORT_INSTANCES): import it series by series`,
      );
    }
    if (added === 0 || (expected !== undefined && manifest.size >= expected)) break;
    offset += page.length;
  }
  if (expected !== undefined && manifest.size < expected) {
    throw new ImportPlanError(
      `the PACS lists ${manifest.size} of the ${expected} instances it says ${what} holds: its QIDO-RS answers are capped ` +
        "(e.g. Orthanc's LimitFindInstances) and paging with offset does not reach past the cap; raise the limit on the PACS",
    );
  }
  return [...manifest.values()];
}

function describe({ studyInstanceUid, seriesInstanceUid }: PlanRequest): string {
  return seriesInstanceUid === undefined
    ? `study ${studyInstanceUid}`
    : `series ${seriesInstanceUid} of study ${studyInstanceUid}`;
}

/**
 * Whether the study (series) is there, and how many instances it says it holds (undefined when the
 * PACS does not return that optional attribute).
 */
async function expectedCount(
  qido: QidoSearch,
  request: PlanRequest,
  signal: AbortSignal,
): Promise<number | undefined> {
  const { studyInstanceUid, seriesInstanceUid } = request;
  const [found] =
    seriesInstanceUid === undefined
      ? await qido(
          {
            level: 'studies',
            studyInstanceUid,
            includefield: [Tag.NumberOfStudyRelatedInstances],
          },
          signal,
        )
      : await qido(
          {
            level: 'series',
            studyInstanceUid,
            seriesInstanceUid,
            includefield: [Tag.NumberOfSeriesRelatedInstances],
          },
          signal,
        );
  if (found === undefined) {
    throw new DicomwebError(
      DicomwebErrorCode.StudyNotFound,
      `the PACS holds no ${describe(request)} (QIDO-RS finds none)`,
    );
  }
  const count = dicomJsonString(
    found,
    seriesInstanceUid === undefined ? Tag.NumberOfStudyRelatedInstances : Tag.NumberOfSeriesRelatedInstances,
  );
  const value = count === undefined ? NaN : Number(count);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function manifestEntry(dataset: DicomJson, where: string): ImportInstanceData {
  const uid = (keyword: keyof typeof Tag): string => {
    const value = dicomJsonString(dataset, Tag[keyword]);
    if (value === undefined) {
      throw new ImportPlanError(
        `the PACS's QIDO-RS answer for ${where} has no ${keyword} ${hexTag(parseInt(Tag[keyword], 16))}`,
      );
    }
    if (!isValidUid(value)) {
      throw new ImportPlanError(
        `the PACS's QIDO-RS answer for ${where} has a ${keyword} that is not a valid UID: ${JSON.stringify(value.slice(0, 80))}`,
      );
    }
    return value;
  };
  return {
    sopInstanceUid: uid('SOPInstanceUID'),
    seriesInstanceUid: uid('SeriesInstanceUID'),
    sopClassUid: uid('SOPClassUID'),
  };
}
