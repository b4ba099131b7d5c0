import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { dicomJsonString, uidProblem, type DicomJson } from '@pacslink/dicom';
import { displayUrl, type ResolvedEndpoint } from './dicomweb-endpoint';
import type { DicomwebLogger } from './dicomweb-logger';
import type { DicomwebResponse, DicomwebTransport } from './dicomweb-transport';
import { buildUrl, checkUid } from './dicomweb-url';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import {
  connectionContext,
  retrieveBodyFailure,
  retrieveStatusFailure,
  unexpectedPartFailure,
  type RetrieveProgress,
} from './failure-mapping';
import { headerValue, readPrefix, responseFacts } from './http-body';
import { parseMediaType } from './media-type';
import { forEachPart } from './multipart-parts';
import { boundaryProblem } from './multipart-scanner';
import type { QidoQuery } from './qido';

const DICOM = 'application/dicom';

export interface RetrieveOptions {
  studyInstanceUid: string;
  /** Only this series of the study. */
  seriesInstanceUid?: string;
  /**
   * Transfer syntax UIDs the caller keeps, most wanted first (dicomweb-worker: STORABLE_TRANSFER_SYNTAXES
   * of @pacslink/store). Asked for with falling q-values, then `transfer-syntax=*` (as the server holds it).
   */
  acceptTransferSyntaxes: readonly string[];
  /**
   * Resume: instances the caller already holds are not fetched again. In a series where any is held,
   * the others are fetched one request each (README, "Resume").
   */
  has?: (sopInstanceUid: string) => boolean | Promise<boolean>;
  /** What QIDO-RS says is to come, before the first WADO-RS request. */
  onPlan?: (plan: RetrievePlan) => void;
  /** Each instance's outcome as soon as it is known (progress). */
  onInstance?: (outcome: RetrieveOutcome) => void;
  /** Aborts the request in flight; the call rejects with ABORTED. */
  signal?: AbortSignal;
}

export interface RetrievePlan {
  series: { seriesInstanceUid: string; sopInstanceUids: string[] }[];
  /** Instances QIDO-RS lists. */
  total: number;
}

/**
 * `stored`: the sink took it. `held`: `has()` said so, not fetched. `failure`: the sink refused the
 * part (`reason`, its error's message; `sopInstanceUid` unset when the sink could not tell whose
 * part it was). `missing`: QIDO-RS listed it, the WADO-RS answer did not hold it.
 */
export type RetrieveOutcomeStatus = 'stored' | 'held' | 'failure' | 'missing';

export interface RetrieveOutcome {
  sopInstanceUid?: string;
  seriesInstanceUid: string;
  status: RetrieveOutcomeStatus;
  reason?: string;
}

export interface RetrieveResult {
  plan: RetrievePlan;
  outcomes: RetrieveOutcome[];
}

/** Facts about a part, for the sink. */
export interface RetrievedPart {
  seriesInstanceUid: string;
  /** The part's `transfer-syntax` parameter, when the server gave one. */
  transferSyntaxUid?: string;
}

/**
 * Takes one instance as a Part 10 stream (e.g. StudyStore.write) and resolves to its SOP Instance
 * UID; rejects to refuse it (an error with a `sopInstanceUid` string names the instance). The
 * stream errors with a DicomwebError when the answer breaks off in the middle of the part.
 */
export type InstanceSink = (part: Readable, facts: RetrievedPart) => Promise<{ sopInstanceUid: string }>;

export interface RetrieveDependencies {
  transport: DicomwebTransport;
  dispatcher: Dispatcher;
  logger?: DicomwebLogger;
  qido(query: QidoQuery, signal?: AbortSignal): Promise<DicomJson[]>;
}

const Tag = { SeriesInstanceUID: '0020000E', SOPInstanceUID: '00080018' } as const;
/** QIDO-RS pages: servers cap answers (dcm4chee: 1000 by default); a page this full asks for the next. */
const QIDO_PAGE = 1000;

function invalidRequest(message: string): DicomwebError {
  return new DicomwebError(DicomwebErrorCode.InvalidRequest, message);
}

/**
 * PS3.18 8.7.3.5: one media range per transfer syntax, q falling in the caller's order, then `*`.
 * RFC 9110 12.4.2: q has at most three decimals.
 */
export function retrieveAcceptHeader(transferSyntaxUids: readonly string[]): string {
  const ranges = transferSyntaxUids.map((uid, index) => {
    const q = index === 0 ? '' : `;q=${(1 - index / (transferSyntaxUids.length + 1)).toFixed(3)}`;
    return `multipart/related; type="${DICOM}"; transfer-syntax=${uid}${q}`;
  });
  const lowest = (1 / (transferSyntaxUids.length + 1)).toFixed(3);
  ranges.push(`multipart/related; type="${DICOM}"; transfer-syntax=*;q=${lowest}`);
  return ranges.join(', ');
}

function checkOptions(
  options: Pick<RetrieveOptions, 'studyInstanceUid' | 'seriesInstanceUid' | 'acceptTransferSyntaxes'>,
): void {
  checkUid('studyInstanceUid', options.studyInstanceUid);
  if (options.seriesInstanceUid !== undefined) checkUid('seriesInstanceUid', options.seriesInstanceUid);
  if (!Array.isArray(options.acceptTransferSyntaxes)) {
    throw invalidRequest('acceptTransferSyntaxes must be an array of transfer syntax UIDs');
  }
  for (const uid of options.acceptTransferSyntaxes) {
    if (typeof uid !== 'string' || uidProblem(uid) !== undefined) {
      throw invalidRequest(`acceptTransferSyntaxes holds ${JSON.stringify(uid)}, which is not a UID`);
    }
  }
}

async function allPages(
  dependencies: RetrieveDependencies,
  query: QidoQuery,
  signal?: AbortSignal,
): Promise<DicomJson[]> {
  const found: DicomJson[] = [];
  for (let offset = 0; ; offset += QIDO_PAGE) {
    const page = await dependencies.qido({ ...query, limit: QIDO_PAGE, offset }, signal);
    found.push(...page);
    // A server that ignores limit answers everything at once.
    if (page.length !== QIDO_PAGE) return found;
  }
}

function uidsOf(datasets: readonly DicomJson[], tag: string): string[] {
  const uids = datasets.map((dataset) => dicomJsonString(dataset, tag)).filter((uid) => uid !== undefined);
  return [...new Set(uids)];
}

/** QIDO-RS: the series of the study (or the one asked for), and the instances of each. */
async function planRetrieve(
  dependencies: RetrieveDependencies,
  options: RetrieveOptions,
): Promise<RetrievePlan> {
  const { studyInstanceUid, seriesInstanceUid, signal } = options;
  const studies = await dependencies.qido(
    { level: 'studies', studyInstanceUid, includefield: ['NumberOfStudyRelatedInstances'] },
    signal,
  );
  if (studies.length === 0) {
    throw new DicomwebError(
      DicomwebErrorCode.StudyNotFound,
      `the server holds no study ${studyInstanceUid} (QIDO-RS finds none)`,
    );
  }
  const seriesUids = uidsOf(
    await allPages(dependencies, { level: 'series', studyInstanceUid, seriesInstanceUid }, signal),
    Tag.SeriesInstanceUID,
  );
  if (seriesInstanceUid !== undefined && !seriesUids.includes(seriesInstanceUid)) {
    throw new DicomwebError(
      DicomwebErrorCode.StudyNotFound,
      `the server holds no series ${seriesInstanceUid} in study ${studyInstanceUid} (QIDO-RS finds none)`,
    );
  }
  const series: RetrievePlan['series'] = [];
  for (const uid of seriesUids) {
    const instances = await allPages(
      dependencies,
      { level: 'instances', studyInstanceUid, seriesInstanceUid: uid },
      signal,
    );
    series.push({ seriesInstanceUid: uid, sopInstanceUids: uidsOf(instances, Tag.SOPInstanceUID) });
  }
  return { series, total: series.reduce((sum, one) => sum + one.sopInstanceUids.length, 0) };
}

/**
 * Retrieves a study (or one series) over WADO-RS into `sink`, series by series, each answer's
 * multipart/related body parsed as it streams (multipart-parts.ts). Resolves to the plan and every
 * instance's outcome; rejects with a DicomwebError when a request fails as a whole (outcomes
 * already passed to `onInstance` stay valid; the part in progress errors its stream).
 */
export async function retrieveStudy(
  dependencies: RetrieveDependencies,
  endpoint: ResolvedEndpoint,
  options: RetrieveOptions,
  sink: InstanceSink,
): Promise<RetrieveResult> {
  checkOptions(options);
  if (typeof sink !== 'function') throw invalidRequest('sink must be a function');
  const plan = await planRetrieve(dependencies, options);
  options.onPlan?.(plan);
  const outcomes: RetrieveOutcome[] = [];
  const deliver = (outcome: RetrieveOutcome) => {
    outcomes.push(outcome);
    options.onInstance?.(outcome);
  };
  const accept = retrieveAcceptHeader(options.acceptTransferSyntaxes);
  const study = options.studyInstanceUid;

  for (const { seriesInstanceUid, sopInstanceUids } of plan.series) {
    const wanted: string[] = [];
    for (const uid of sopInstanceUids) {
      if (options.has !== undefined && (await options.has(uid))) {
        deliver({ sopInstanceUid: uid, seriesInstanceUid, status: 'held' });
      } else {
        wanted.push(uid);
      }
    }
    if (wanted.length === 0) continue;
    const seriesPath = ['studies', study, 'series', seriesInstanceUid];
    const requests =
      wanted.length === sopInstanceUids.length
        ? [{ segments: seriesPath, target: `series ${seriesInstanceUid}`, expected: wanted }]
        : wanted.map((uid) => ({
            segments: [...seriesPath, 'instances', uid],
            target: `instance ${uid}`,
            expected: [uid],
          }));
    for (const request of requests) {
      if (options.signal?.aborted) {
        throw new DicomwebError(
          DicomwebErrorCode.Aborted,
          `the WADO-RS retrieve was cancelled after ${outcomes.length} of ${plan.total} instances`,
        );
      }
      const seen = new Set<string>();
      await retrieveOne(
        dependencies,
        endpoint,
        { ...request, accept, seriesInstanceUid, signal: options.signal },
        sink,
        (outcome) => {
          if (outcome.sopInstanceUid !== undefined) seen.add(outcome.sopInstanceUid);
          deliver(outcome);
        },
      );
      for (const uid of request.expected) {
        if (!seen.has(uid)) {
          deliver({
            sopInstanceUid: uid,
            seriesInstanceUid,
            status: 'missing',
            reason: 'QIDO-RS lists it; the WADO-RS answer does not hold it',
          });
        }
      }
    }
  }
  return { plan, outcomes };
}

interface OneRequest {
  segments: string[];
  target: string;
  accept: string;
  seriesInstanceUid: string;
  signal?: AbortSignal;
}

/** One WADO-RS GET; each part goes to the sink, one at a time, as it arrives. */
async function retrieveOne(
  dependencies: RetrieveDependencies,
  endpoint: ResolvedEndpoint,
  request: OneRequest,
  sink: InstanceSink,
  deliver: (outcome: RetrieveOutcome) => void,
): Promise<void> {
  const { seriesInstanceUid } = request;
  await requestParts(dependencies, endpoint, request, async (body, facts) => {
    try {
      const { sopInstanceUid } = await sink(body, facts);
      deliver({ sopInstanceUid, seriesInstanceUid, status: 'stored' });
    } catch (error) {
      // The answer broke off in this part: the whole request fails with that error.
      if (error instanceof DicomwebError) throw error;
      const uid = (error as { sopInstanceUid?: unknown } | undefined)?.sopInstanceUid;
      deliver({
        ...(typeof uid === 'string' ? { sopInstanceUid: uid } : {}),
        seriesInstanceUid,
        status: 'failure',
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  });
}

/** One series or one instance to fetch with a single WADO-RS GET (retrieveResource). */
export interface ResourceRequest {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** Only this instance of the series. */
  sopInstanceUid?: string;
  /** As RetrieveOptions.acceptTransferSyntaxes. */
  acceptTransferSyntaxes: readonly string[];
  /** Aborts the request in flight; the call rejects with ABORTED. */
  signal?: AbortSignal;
}

/**
 * Takes one part of a WADO-RS answer, its bytes streaming as they arrive. Rejecting stops the
 * request: the call rejects with that error (the rest of the answer is not read).
 */
export type PartHandler = (part: Readable, facts: RetrievedPart) => Promise<void>;

/**
 * One WADO-RS GET of a series or of one instance, each part handed to `handle` as it streams in,
 * one at a time, with the back-pressure of retrieveStudy. For callers that know what to fetch
 * (dicomweb-worker's import batches) and judge each part themselves. Resolves to the number of
 * parts once the close delimiter came (204: none); rejects with a DicomwebError when the request
 * fails, or with `handle`'s own error.
 */
export async function retrieveResource(
  dependencies: Omit<RetrieveDependencies, 'qido'>,
  endpoint: ResolvedEndpoint,
  request: ResourceRequest,
  handle: PartHandler,
): Promise<{ parts: number }> {
  checkOptions(request);
  if (request.sopInstanceUid !== undefined) checkUid('sopInstanceUid', request.sopInstanceUid);
  if (typeof handle !== 'function') throw invalidRequest('handle must be a function');
  const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = request;
  const seriesPath = ['studies', studyInstanceUid, 'series', seriesInstanceUid];
  return requestParts(
    dependencies,
    endpoint,
    {
      segments: sopInstanceUid === undefined ? seriesPath : [...seriesPath, 'instances', sopInstanceUid],
      target:
        sopInstanceUid === undefined
          ? `series ${seriesInstanceUid} of study ${studyInstanceUid}`
          : `instance ${sopInstanceUid} of study ${studyInstanceUid}`,
      accept: retrieveAcceptHeader(request.acceptTransferSyntaxes),
      seriesInstanceUid,
      signal: request.signal,
    },
    handle,
  );
}

/** One WADO-RS GET; each part goes to `handle`, one at a time, as it arrives. */
async function requestParts(
  dependencies: Omit<RetrieveDependencies, 'qido'>,
  endpoint: ResolvedEndpoint,
  request: OneRequest,
  handle: PartHandler,
): Promise<{ parts: number }> {
  const { seriesInstanceUid, target } = request;
  const url = buildUrl(endpoint.baseUrl, request.segments);
  const started = performance.now();
  const response = await dependencies.transport.send(
    endpoint,
    { method: 'GET', url, headers: { accept: request.accept }, signal: request.signal },
    dependencies.dispatcher,
  );
  const boundary = await multipartBoundary(response, endpoint, target);
  if (boundary === undefined) return { parts: 0 };
  const context = connectionContext(url, endpoint.timeoutMs);
  let progress: RetrieveProgress = { target, parts: 0, inPart: false };
  const { parts } = await forEachPart(
    response.body,
    boundary,
    async (part) => {
      progress = { target, parts: part.number, inPart: true };
      const type = part.headers.get('content-type');
      const media = type === undefined ? undefined : parseMediaType(type);
      // A part without Content-Type takes the body's type parameter (RFC 2387 3.1).
      if (media !== undefined && media.type !== DICOM) throw unexpectedPartFailure(media.type, progress);
      await handle(part.body, {
        seriesInstanceUid,
        transferSyntaxUid: media?.parameters.get('transfer-syntax'),
      });
    },
    {
      mapError: (error, facts) =>
        request.signal?.aborted
          ? response.failure(error)
          : retrieveBodyFailure(error, context, { target, ...facts }, response.secrets),
    },
  );
  dependencies.logger?.debug({
    msg: 'WADO-RS answer read',
    server: endpoint.hostPort,
    parts,
    ms: Math.round(performance.now() - started),
  });
  return { parts };
}

/**
 * The boundary of a 200/206 multipart/related answer; undefined for 204 (nothing to send). Any
 * other answer is read (a few KiB, for the message) and becomes a DicomwebError.
 */
async function multipartBoundary(
  response: DicomwebResponse,
  endpoint: ResolvedEndpoint,
  target: string,
): Promise<string | undefined> {
  const { status, headers, body } = response;
  if (status === 204) {
    await body.dump();
    return undefined;
  }
  const contentType = headerValue(headers, 'content-type');
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  if ((status === 200 || status === 206) && media?.type === 'multipart/related') {
    const boundary = media.parameters.get('boundary');
    const partType = media.parameters.get('type');
    const problem = boundary === undefined ? 'it has no boundary parameter' : boundaryProblem(boundary);
    const wrongType =
      partType !== undefined && partType.toLowerCase() !== DICOM ? `its type is ${partType}` : undefined;
    if (problem === undefined && wrongType === undefined) return boundary;
    body.destroy();
    throw new DicomwebError(
      DicomwebErrorCode.MalformedMultipart,
      `the WADO-RS answer for ${target} is multipart/related, but ${problem ?? wrongType}`,
      { httpStatus: status },
    );
  }
  let prefix: Awaited<ReturnType<typeof readPrefix>>;
  try {
    prefix = await readPrefix(body, 4096, endpoint.timeoutMs);
  } catch (error) {
    throw response.failure(error);
  }
  if (!prefix.complete) body.destroy();
  throw retrieveStatusFailure(
    responseFacts(status, headers, prefix.bytes, response.secrets, response.url),
    {
      serviceUrl: displayUrl(endpoint.baseUrl),
      origin: endpoint.baseUrl.origin,
      authMethod: endpoint.auth.method,
    },
    target,
  );
}
