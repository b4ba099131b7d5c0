import type { ImportInstanceData } from '@pacslink/contracts';
import type { RetrieveQuery } from '@pacslink/dimse';

/** One C-GET or C-MOVE of a batch: what it asks for, and the batch's instances it should bring. */
export interface RetrieveRequest {
  query: RetrieveQuery;
  instances: ImportInstanceData[];
}

/**
 * PS3.5 6.2: a UI value, the whole UID list with its separators, fits a 16-bit length; lists are
 * cut well inside it (about 250 UIDs of 64 characters) so that the identifier stays small.
 */
const MAX_UID_LIST_CHARACTERS = 16_384;

/**
 * The requests that retrieve what the batch names and is not `done` yet, series by series: a
 * series the batch holds whole (`wholeSeries`) and of which nothing is stored yet is one SERIES
 * request; the other instances go as IMAGE requests with UID lists (PS3.4 C.2.2.2.2), one series
 * each, as Study Root asks. A C-MOVE after a C-GET that stopped half-way so asks for what is missing.
 */
export function retrieveRequests(
  studyInstanceUid: string,
  instances: readonly ImportInstanceData[],
  wholeSeries: readonly string[],
  done: ReadonlySet<string> = new Set(),
): RetrieveRequest[] {
  const bySeries = new Map<string, { all: ImportInstanceData[]; missing: ImportInstanceData[] }>();
  for (const instance of instances) {
    let series = bySeries.get(instance.seriesInstanceUid);
    if (series === undefined) {
      series = { all: [], missing: [] };
      bySeries.set(instance.seriesInstanceUid, series);
    }
    series.all.push(instance);
    if (!done.has(instance.sopInstanceUid)) series.missing.push(instance);
  }
  const whole = new Set(wholeSeries);
  const requests: RetrieveRequest[] = [];
  for (const [seriesInstanceUid, { all, missing }] of bySeries) {
    if (missing.length === 0) continue;
    if (whole.has(seriesInstanceUid) && missing.length === all.length) {
      requests.push({
        query: { level: 'SERIES', studyInstanceUid, seriesInstanceUids: [seriesInstanceUid] },
        instances: missing,
      });
      continue;
    }
    for (const chunk of uidListChunks(missing)) {
      requests.push({
        query: {
          level: 'IMAGE',
          studyInstanceUid,
          seriesInstanceUids: [seriesInstanceUid],
          sopInstanceUids: chunk.map((instance) => instance.sopInstanceUid),
        },
        instances: chunk,
      });
    }
  }
  return requests;
}

function uidListChunks(instances: readonly ImportInstanceData[]): ImportInstanceData[][] {
  const chunks: ImportInstanceData[][] = [];
  let chunk: ImportInstanceData[] = [];
  let characters = 0;
  for (const instance of instances) {
    const length = instance.sopInstanceUid.length + 1;
    if (chunk.length > 0 && characters + length > MAX_UID_LIST_CHARACTERS) {
      chunks.push(chunk);
      chunk = [];
      characters = 0;
    }
    chunk.push(instance);
    characters += length;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
