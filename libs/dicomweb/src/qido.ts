import { dicomJsonProblem, normalizeTag, type DicomJson } from '@pacslink/dicom';
import { displayUrl, type ResolvedEndpoint } from './dicomweb-endpoint';
import type { DicomwebResponse } from './dicomweb-transport';
import { buildUrl, checkUid, type QueryValue } from './dicomweb-url';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { describeBody, httpStatusFailure } from './failure-mapping';
import { mediaType, readPrefix, responseFacts } from './http-body';

/** PS3.18 10.6: the resource a QIDO-RS search runs on. */
export type QidoLevel = 'studies' | 'series' | 'instances';

export interface QidoQuery {
  level: QidoLevel;
  /** Narrows the search to one study: `/studies/{uid}/series`, `/studies/{uid}/instances`. */
  studyInstanceUid?: string;
  /** With `studyInstanceUid`: `/studies/{s}/series/{uid}/instances`; alone, a SeriesInstanceUID filter. */
  seriesInstanceUid?: string;
  /**
   * Matching keys (PS3.18 8.3.4.1): a DICOM keyword (`PatientName`), a tag (`00100010`) or a
   * dotted sequence path (`ScheduledProcedureStepSequence.Modality`); values as QIDO-RS takes
   * them (`Doe*`, `20240101-20240131`). Encoded here; pass them unencoded.
   */
  filters?: Readonly<Record<string, string>>;
  limit?: number;
  offset?: number;
  /** Keywords or tags of attributes to return beyond the defaults, or `all`. */
  includefield?: readonly string[];
}

export interface QidoOptions {
  signal?: AbortSignal;
  /** The largest answer held in memory; RESPONSE_TOO_LARGE beyond it (default 64 MiB). */
  maxResponseBytes?: number;
}

export const DEFAULT_MAX_QIDO_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Names QIDO-RS reserves for its own parameters (PS3.18 8.3.4). */
const RESERVED = new Set(['limit', 'offset', 'includefield', 'fuzzymatching', 'emptyvalue']);
const KEYWORD = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

function invalidRequest(message: string): DicomwebError {
  return new DicomwebError(DicomwebErrorCode.InvalidRequest, message);
}

/** A filter or includefield name: keyword, tag, or a dotted path of them; returned as sent. */
export function attributePath(field: string, name: string): string {
  const components = name.split('.');
  const valid = components.every((part) => KEYWORD.test(part) || normalizeTag(part) !== undefined);
  if (!valid || name.length > 256) {
    throw invalidRequest(`${field} "${name.slice(0, 64)}" is not a DICOM keyword, tag or sequence path`);
  }
  if (RESERVED.has(name.toLowerCase())) {
    throw invalidRequest(`${field} "${name}" is a QIDO-RS parameter, not an attribute`);
  }
  return components.map((part) => normalizeTag(part) ?? part).join('.');
}

function nonNegativeInteger(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) throw invalidRequest(`${field} must be an integer ≥ 0`);
  return value;
}

/** The path segments and query parameters of a QIDO-RS search (PS3.18 Table 10.6.1-2). */
export function qidoTarget(query: QidoQuery): { segments: string[]; params: Record<string, QueryValue> } {
  const study =
    query.studyInstanceUid === undefined ? undefined : checkUid('studyInstanceUid', query.studyInstanceUid);
  const series =
    query.seriesInstanceUid === undefined
      ? undefined
      : checkUid('seriesInstanceUid', query.seriesInstanceUid);
  const params: Record<string, QueryValue> = {};
  for (const [name, value] of Object.entries(query.filters ?? {})) {
    if (typeof value !== 'string') throw invalidRequest(`filter ${name} must be a string`);
    params[attributePath('filter', name)] = value;
  }

  let segments: string[];
  switch (query.level) {
    case 'studies':
      segments = ['studies'];
      if (study !== undefined) params.StudyInstanceUID = study;
      if (series !== undefined) throw invalidRequest('seriesInstanceUid does not narrow a study search');
      break;
    case 'series':
      segments = study === undefined ? ['series'] : ['studies', study, 'series'];
      if (series !== undefined) params.SeriesInstanceUID = series;
      break;
    case 'instances':
      if (study !== undefined && series !== undefined)
        segments = ['studies', study, 'series', series, 'instances'];
      else if (study !== undefined) segments = ['studies', study, 'instances'];
      else {
        segments = ['instances'];
        if (series !== undefined) params.SeriesInstanceUID = series;
      }
      break;
    default:
      throw invalidRequest(`level ${JSON.stringify(query.level)} is not studies, series or instances`);
  }

  const limit = nonNegativeInteger('limit', query.limit);
  const offset = nonNegativeInteger('offset', query.offset);
  if (limit !== undefined) params.limit = limit;
  if (offset !== undefined) params.offset = offset;
  if (query.includefield !== undefined && query.includefield.length > 0) {
    params.includefield = query.includefield.map((name) =>
      name === 'all' ? name : attributePath('includefield', name),
    );
  }
  return { segments, params };
}

export function qidoUrl(endpoint: Pick<ResolvedEndpoint, 'baseUrl'>, query: QidoQuery): URL {
  const { segments, params } = qidoTarget(query);
  return buildUrl(endpoint.baseUrl, segments, params);
}

const JSON_MEDIA_TYPES = new Set(['application/dicom+json', 'application/json']);
/** `[` then `{"<tag>": {` — enough of a DICOM JSON answer to recognise one that was cut short. */
const DICOM_JSON_START = /^\s*\[\s*(\]|\{\s*("[0-9A-Fa-f]{8}"\s*:\s*\{|\}))/;

export interface QidoAnswer {
  datasets: DicomJson[];
  /** The body exceeded the read limit and `allowTruncated` was set: `datasets` is empty. */
  truncated: boolean;
  /** The answer's media type without parameters; undefined for 204 or when the server sent none. */
  mediaType?: string;
}

/**
 * Judges a QIDO-RS answer: 204 or an empty array is "no matches"; 200 must be DICOM JSON (PS3.18
 * F.2); every other status maps to a DicomwebError. Always consumes or destroys the body.
 */
export async function readQidoAnswer(
  response: DicomwebResponse,
  endpoint: Pick<ResolvedEndpoint, 'baseUrl' | 'auth' | 'timeoutMs'>,
  options: { maxBytes: number; allowTruncated?: boolean },
): Promise<QidoAnswer> {
  const { status, headers, body, url, secrets } = response;
  if (status === 204) {
    await body.dump();
    return { datasets: [], truncated: false };
  }
  const type = mediaType(headers);
  const jsonish = type === undefined || JSON_MEDIA_TYPES.has(type) || type.endsWith('+json');
  const readLimit = status === 200 && jsonish ? options.maxBytes : 4096;
  let prefix: Awaited<ReturnType<typeof readPrefix>>;
  try {
    prefix = await readPrefix(body, readLimit, endpoint.timeoutMs);
  } catch (error) {
    throw response.failure(error);
  }
  const { bytes, complete } = prefix;
  const facts = () => responseFacts(status, headers, bytes, secrets, url);
  if (status !== 200) {
    throw httpStatusFailure(facts(), {
      serviceUrl: displayUrl(endpoint.baseUrl),
      origin: endpoint.baseUrl.origin,
      authMethod: endpoint.auth.method,
    });
  }
  const notDicomweb = (what: string) =>
    new DicomwebError(DicomwebErrorCode.NotDicomweb, `not a DICOMweb endpoint: ${what}`, {
      httpStatus: status,
    });
  if (!jsonish) throw notDicomweb(`the answer is ${describeBody(facts())}`);
  if (!complete) {
    if (options.allowTruncated && DICOM_JSON_START.test(bytes.toString('utf8'))) {
      return { datasets: [], truncated: true, mediaType: type };
    }
    if (options.allowTruncated) throw notDicomweb(`the answer is ${describeBody(facts())}`);
    throw new DicomwebError(
      DicomwebErrorCode.ResponseTooLarge,
      `the QIDO-RS answer is larger than ${options.maxBytes} bytes — narrow the query or use limit/offset`,
    );
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') return { datasets: [], truncated: false, mediaType: type };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw notDicomweb(`the answer is not JSON: ${describeBody(facts())}`);
  }
  const problem = dicomJsonProblem(parsed);
  if (problem !== undefined) {
    throw notDicomweb(`the answer is JSON but not DICOM JSON (${problem}): ${describeBody(facts())}`);
  }
  return { datasets: parsed as DicomJson[], truncated: false, mediaType: type };
}
