import { dicomJsonProblem, dicomJsonString, type DicomJson } from '@pacslink/dicom';
import { displayUrl, type ResolvedEndpoint } from './dicomweb-endpoint';
import type { DicomwebResponse } from './dicomweb-transport';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { describeBody, httpStatusFailure, statusLine, type ResponseFacts } from './failure-mapping';
import { headerValue, mediaType, readPrefix, responseFacts } from './http-body';
import { describeStowReason } from './stow-reasons';

export type StowOutcomeStatus = 'success' | 'warning' | 'failure';

/** What the server said about one instance. */
export interface StowVerdict {
  status: StowOutcomeStatus;
  reason?: string;
}

/** PS3.18 10.5.3 / PS3.3 C.22 Store Instances Response Module. */
const Tag = {
  WarningReason: '00081196',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  FailureReason: '00081197',
  ReferencedSOPInstanceUID: '00081155',
} as const;

/** An answer that lists 100 000 instances is still far below this. */
export const MAX_STOW_ANSWER_BYTES = 32 * 1024 * 1024;

/** US values arrive as JSON numbers; some servers send strings (`"A700"` hex or `"42752"` decimal). */
function statusCode(dataset: DicomJson, tag: string): number | undefined {
  const value = dataset[tag]?.Value?.[0];
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^(0x)?[0-9a-f]{4}$/i.test(text)) return Number.parseInt(text.replace(/^0x/i, ''), 16);
  return /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

function items(dataset: DicomJson, tag: string): DicomJson[] {
  return (dataset[tag]?.Value ?? []).filter(
    (item): item is DicomJson => typeof item === 'object' && item !== null && !('Alphabetic' in item),
  );
}

/**
 * Who the server stored (ReferencedSOPSequence; with a WarningReason a warning) and who it did not
 * (FailedSOPSequence with FailureReason), by SOP Instance UID. A failure wins over a success.
 */
export function stowVerdicts(dataset: DicomJson): Map<string, StowVerdict> {
  const verdicts = new Map<string, StowVerdict>();
  for (const item of items(dataset, Tag.ReferencedSOPSequence)) {
    const uid = dicomJsonString(item, Tag.ReferencedSOPInstanceUID);
    if (uid === undefined) continue;
    const warning = statusCode(item, Tag.WarningReason);
    verdicts.set(
      uid,
      warning === undefined
        ? { status: 'success' }
        : { status: 'warning', reason: describeStowReason(warning) },
    );
  }
  for (const item of items(dataset, Tag.FailedSOPSequence)) {
    const uid = dicomJsonString(item, Tag.ReferencedSOPInstanceUID);
    if (uid === undefined) continue;
    const failure = statusCode(item, Tag.FailureReason);
    verdicts.set(uid, {
      status: 'failure',
      reason: failure === undefined ? 'the server gave no FailureReason' : describeStowReason(failure),
    });
  }
  return verdicts;
}

/** RFC 9110 10.2.3: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface StowRequestFacts {
  multipart: boolean;
  instances: number;
  bytes: number;
}

/** Maps a status that is not a STOW-RS answer (PS3.18 10.5.3 lists 200, 202 and 409). */
export function stowStatusFailure(
  facts: ResponseFacts,
  endpoint: Pick<ResolvedEndpoint, 'baseUrl' | 'auth'>,
  request: StowRequestFacts,
  retryAfter?: number,
): DicomwebError {
  const { status } = facts;
  const line = statusLine(status);
  const withText = facts.snippet !== '' && facts.htmlTitle === undefined ? `: ${facts.snippet}` : '';
  const make = (code: DicomwebErrorCode, message: string, wait?: number): DicomwebError =>
    new DicomwebError(code, message, { httpStatus: status, retryAfterMs: wait });
  const after = retryAfter === undefined ? '' : ` (it asks to wait ${Math.ceil(retryAfter / 1000)} s)`;
  switch (status) {
    case 400:
      return make(
        DicomwebErrorCode.RequestRejected,
        `the server refused the STOW-RS request as malformed (${line})${withText}`,
      );
    case 413:
      return make(
        DicomwebErrorCode.RequestRejected,
        request.multipart
          ? `the server refuses a request this large (${line}; ${request.instances} instances, ${request.bytes} bytes) — lower maxBytesPerRequest`
          : `the server refuses an instance this large (${line}; ${request.bytes} bytes)`,
      );
    case 415:
      return make(
        DicomwebErrorCode.RequestRejected,
        request.multipart
          ? `the server does not take multipart/related; type="application/dicom" bodies (${line}) — is the URL a STOW-RS service?`
          : `the server does not take single application/dicom bodies (${line}) — switch on stowMultipartRelated (Orthanc's DICOMweb plugin needs it)`,
      );
    case 429:
      return make(
        DicomwebErrorCode.RateLimited,
        `the server is busy (${line})${after} — try again later`,
        retryAfter,
      );
    default:
      break;
  }
  if (status >= 500 && status <= 599) {
    return make(DicomwebErrorCode.ServerError, `the server failed (${line})${after}${withText}`, retryAfter);
  }
  if (status >= 400 && status <= 499 && ![401, 403, 404, 406, 410].includes(status)) {
    return make(
      DicomwebErrorCode.RequestRejected,
      `the server refused the STOW-RS request (${line})${withText}`,
    );
  }
  return httpStatusFailure(facts, {
    serviceUrl: displayUrl(endpoint.baseUrl),
    origin: endpoint.baseUrl.origin,
    authMethod: endpoint.auth.method,
  });
}

export interface StowAnswer {
  status: number;
  /** Undefined when the answer had no body to read verdicts from (then the HTTP status speaks). */
  verdicts?: Map<string, StowVerdict>;
}

function parseDataset(text: string): DicomJson | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  // PS3.18 answers one dataset; some servers wrap it in an array as QIDO-RS does.
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length !== 1 || dicomJsonProblem(list) !== undefined) return undefined;
  return list[0] as DicomJson;
}

/**
 * Judges the answer to one STOW-RS request: 200, 202 and 409 (and any other 2xx) carry per-instance
 * verdicts; every other status is a DicomwebError. Always consumes or destroys the body.
 */
export async function readStowAnswer(
  response: DicomwebResponse,
  endpoint: Pick<ResolvedEndpoint, 'baseUrl' | 'auth' | 'timeoutMs'>,
  request: StowRequestFacts,
): Promise<StowAnswer> {
  const { status, headers, body, url, secrets } = response;
  const answered = status === 409 || (status >= 200 && status <= 299);
  let prefix: Awaited<ReturnType<typeof readPrefix>>;
  try {
    prefix = await readPrefix(body, answered ? MAX_STOW_ANSWER_BYTES : 4096, endpoint.timeoutMs);
  } catch (error) {
    throw response.failure(error);
  }
  const facts = () => responseFacts(status, headers, prefix.bytes, secrets, url);
  if (!answered) {
    throw stowStatusFailure(facts(), endpoint, request, retryAfterMs(headerValue(headers, 'retry-after')));
  }
  if (!prefix.complete) {
    throw new DicomwebError(
      DicomwebErrorCode.ResponseTooLarge,
      `the STOW-RS answer is larger than ${MAX_STOW_ANSWER_BYTES} bytes — lower maxInstancesPerRequest`,
      { httpStatus: status },
    );
  }
  const text = prefix.bytes.toString('utf8');
  if (text.trim() === '') return { status };
  // Orthanc 1.10 sends its 409 answer without a Content-Type: judge the body, not the label.
  const type = mediaType(headers);
  const jsonish = type === undefined || type === 'application/json' || type.endsWith('+json');
  const dataset = jsonish ? parseDataset(text) : undefined;
  if (dataset !== undefined) return { status, verdicts: stowVerdicts(dataset) };
  if (status === 409) return { status };
  throw new DicomwebError(
    DicomwebErrorCode.NotDicomweb,
    `not a STOW-RS answer (${statusLine(status)}): expected a DICOM JSON dataset, got ${describeBody(facts())}`,
    { httpStatus: status },
  );
}
