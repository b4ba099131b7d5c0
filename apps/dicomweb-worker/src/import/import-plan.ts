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
/**
 * Pages asked for at once when the count is known: a PACS answers a page of instances slowly
 * (Orthanc 1.10: 1.3 s per 1000, reading each file), and pages one after the other made most of a
 * 2000-instance import's plan.
 */
const PAGES_AT_ONCE = 4;

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
 * the check: a study listed short of it is listed again series by series (each under the cap, as
 * a rule); a series still short is a permanent failure that names the cap, not a partial import.
 */
export async function planImport(
  qido: QidoSearch,
  request: PlanRequest,
  signal: AbortSignal,
  maxInstances = MAX_IMPORT_INSTANCES,
): Promise<ImportInstanceData[]> {
  const manifest = new Manifest(maxInstances, describe(request));
  const expected = await expectedCount(qido, request, signal);
  await listInstances(qido, request, expected, manifest, signal);
  if (expected !== undefined && manifest.size < expected && request.seriesInstanceUid === undefined) {
    const { studyInstanceUid } = request;
    for (const series of await allSeries(qido, studyInstanceUid, signal)) {
      const scope = { studyInstanceUid, seriesInstanceUid: series.uid };
      const listed = await listInstances(qido, scope, series.count, manifest, signal);
      if (series.count !== undefined && listed < series.count) throw capped(listed, series.count, scope);
    }
  }
  if (expected !== undefined && manifest.size < expected) throw capped(manifest.size, expected, request);
  return manifest.instances();
}

/** The instances found so far, by SOP Instance UID, refused past the most an import may bring. */
class Manifest {
  private readonly byUid = new Map<string, ImportInstanceData>();

  constructor(
    private readonly maxInstances: number,
    private readonly what: string,
  ) {}

  get size(): number {
    return this.byUid.size;
  }

  /** false: already listed. */
  add(instance: ImportInstanceData): boolean {
    if (this.byUid.has(instance.sopInstanceUid)) return false;
    this.byUid.set(instance.sopInstanceUid, instance);
    if (this.byUid.size > this.maxInstances) {
      throw new ImportPlanError(
        `${this.what} holds more than ${this.maxInstances} instances, the most one import may bring (MAX_IMPORT_INSTANCES): import it series by series`,
      );
    }
    return true;
  }

  instances(): ImportInstanceData[] {
    return [...this.byUid.values()];
  }
}

function capped(listed: number, expected: number, scope: PlanRequest): ImportPlanError {
  return new ImportPlanError(
    `the PACS lists ${listed} of the ${expected} instances it says ${describe(scope)} holds: its QIDO-RS answers are capped ` +
      "(e.g. Orthanc's LimitFindInstances) and paging with offset does not reach past the cap; raise the limit on the PACS",
  );
}

/** Pages through the instances of `scope` into `manifest`; answers how many of them it listed. */
async function listInstances(
  qido: QidoSearch,
  scope: PlanRequest,
  expected: number | undefined,
  manifest: Manifest,
  signal: AbortSignal,
): Promise<number> {
  const seen = new Set<string>();
  const ahead = pagesAhead(qido, scope, expected, signal);
  for (let offset = 0; ;) {
    const page = await (ahead.get(offset) ??
      qido({ level: 'instances', ...scope, limit: QIDO_PAGE, offset }, signal));
    const before = seen.size;
    page.forEach((dataset, index) => {
      const instance = manifestEntry(dataset, `instance ${offset + index + 1} of ${describe(scope)}`);
      seen.add(instance.sopInstanceUid);
      manifest.add(instance);
    });
    if (seen.size === before || (expected !== undefined && seen.size >= expected)) return seen.size;
    offset += page.length;
  }
}

/**
 * The pages a study (series) of `expected` instances fills when the PACS answers QIDO_PAGE at a
 * time, asked for at once (at most PAGES_AT_ONCE), by offset. The paging loop takes a page from
 * here when its offset is one of them and asks itself otherwise (a PACS that answers fewer per
 * page), so what it lists and when it stops do not change; a page it does not take is dropped.
 */
function pagesAhead(
  qido: QidoSearch,
  scope: PlanRequest,
  expected: number | undefined,
  signal: AbortSignal,
): Map<number, Promise<DicomJson[]>> {
  const pages = new Map<number, Promise<DicomJson[]>>();
  if (expected === undefined || expected <= QIDO_PAGE) return pages;
  for (let offset = 0; offset < expected && pages.size < PAGES_AT_ONCE; offset += QIDO_PAGE) {
    const page = qido({ level: 'instances', ...scope, limit: QIDO_PAGE, offset }, signal);
    // A page not taken fails nobody; one taken rejects where it is awaited.
    page.catch(() => undefined);
    pages.set(offset, page);
  }
  return pages;
}

/** The study's series and the count each says it holds (paged as instances are). */
async function allSeries(
  qido: QidoSearch,
  studyInstanceUid: string,
  signal: AbortSignal,
): Promise<{ uid: string; count?: number }[]> {
  const found = new Map<string, number | undefined>();
  for (let offset = 0; ;) {
    const page = await qido(
      {
        level: 'series',
        studyInstanceUid,
        includefield: [Tag.NumberOfSeriesRelatedInstances],
        limit: QIDO_PAGE,
        offset,
      },
      signal,
    );
    const before = found.size;
    page.forEach((dataset, index) => {
      const uid = uidOf(
        dataset,
        'SeriesInstanceUID',
        `series ${offset + index + 1} of study ${studyInstanceUid}`,
      );
      found.set(uid, countOf(dataset, Tag.NumberOfSeriesRelatedInstances));
    });
    if (found.size === before) return [...found].map(([uid, count]) => ({ uid, count }));
    offset += page.length;
  }
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
  return countOf(
    found,
    seriesInstanceUid === undefined ? Tag.NumberOfStudyRelatedInstances : Tag.NumberOfSeriesRelatedInstances,
  );
}

/** A NumberOf…RelatedInstances value; undefined when the PACS does not return it (it is optional). */
function countOf(dataset: DicomJson, tag: string): number | undefined {
  const text = dicomJsonString(dataset, tag);
  const value = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function uidOf(dataset: DicomJson, keyword: keyof typeof Tag, where: string): string {
  const value = dicomJsonString(dataset, Tag[keyword]);
  if (value === undefined) {
    throw new ImportPlanError(
      `the PACS's QIDO-RS answer for ${where} has no ${keyword} ${hexTag(Tag[keyword])}`,
    );
  }
  if (!isValidUid(value)) {
    throw new ImportPlanError(
      `the PACS's QIDO-RS answer for ${where} has a ${keyword} that is not a valid UID: ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
  return value;
}

function manifestEntry(dataset: DicomJson, where: string): ImportInstanceData {
  return {
    sopInstanceUid: uidOf(dataset, 'SOPInstanceUID', where),
    seriesInstanceUid: uidOf(dataset, 'SeriesInstanceUID', where),
    sopClassUid: uidOf(dataset, 'SOPClassUID', where),
  };
}
