import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Dispatcher } from 'undici';
import type { ResolvedEndpoint } from './dicomweb-endpoint';
import type { DicomwebLogger } from './dicomweb-logger';
import type { DicomwebTransport } from './dicomweb-transport';
import { buildUrl, checkUid } from './dicomweb-url';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { statusLine } from './failure-mapping';
import { planBatches } from './stow-batches';
import {
  multipartBody,
  multipartContentType,
  multipartLength,
  newBoundary,
  singleBody,
  type StowFile,
} from './stow-body';
import { readStowAnswer, type StowAnswer, type StowOutcomeStatus } from './stow-response';

export type { StowOutcomeStatus } from './stow-response';

/** One DICOM Part 10 file to store. */
export interface StowInstance {
  /** Absolute path of the file. */
  path: string;
  sopInstanceUid: string;
  sopClassUid: string;
  /** Used to cut batches; the request announces the size stat() finds just before sending. */
  sizeBytes: number;
}

export interface StowOutcome {
  sopInstanceUid: string;
  status: StowOutcomeStatus;
  /**
   * FailureReason (0008,1197) or WarningReason (0008,1196) in words (`0xA700 out of resources`),
   * the HTTP status of a single-part POST answered without details, or why it was never sent.
   */
  reason?: string;
}

export interface StowOptions {
  /** The configuration's `stowMultipartRelated`: batches of multipart/related, else one POST each. */
  multipart: boolean;
  /** POST {url}/studies/{uid} when given, else {url}/studies. */
  studyInstanceUid?: string;
  /** Default 100 (multipart only). */
  maxInstancesPerRequest?: number;
  /** Default 64 MiB (multipart only); one instance bigger than this goes alone. */
  maxBytesPerRequest?: number;
  /** Called for each instance as soon as its request's answer is read (progress). */
  onOutcome?: (outcome: StowOutcome) => void;
  /** Stops after the request in flight; then rejects with DicomwebError ABORTED. */
  signal?: AbortSignal;
}

export const DEFAULT_STOW_MAX_INSTANCES = 100;
export const DEFAULT_STOW_MAX_BYTES = 64 * 1024 * 1024;

/** The reason given to an instance the server's answer leaves out. */
export const NOT_MENTIONED = "the server's answer does not mention this instance";

export interface StowDependencies {
  transport: DicomwebTransport;
  dispatcher: Dispatcher;
  logger?: DicomwebLogger;
}

function invalidRequest(message: string): DicomwebError {
  return new DicomwebError(DicomwebErrorCode.InvalidRequest, message);
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw invalidRequest(`${field} must be an integer ≥ 1`);
  return value;
}

function checkInstances(instances: readonly StowInstance[]): void {
  const given: unknown = instances;
  if (!Array.isArray(given)) throw invalidRequest('instances must be an array');
  const seen = new Set<string>();
  for (const [index, instance] of instances.entries()) {
    const where = `instances[${index}]`;
    if (typeof instance?.sopInstanceUid !== 'string') {
      throw invalidRequest(`${where}.sopInstanceUid must be a UID string`);
    }
    checkUid(`${where}.sopInstanceUid`, instance.sopInstanceUid);
    if (typeof instance.sopClassUid !== 'string') {
      throw invalidRequest(`${where}.sopClassUid must be a UID string`);
    }
    checkUid(`${where}.sopClassUid`, instance.sopClassUid);
    if (typeof instance.path !== 'string' || !isAbsolute(instance.path)) {
      throw invalidRequest(`${where}.path must be an absolute file path`);
    }
    if (!Number.isSafeInteger(instance.sizeBytes) || instance.sizeBytes < 0) {
      throw invalidRequest(`${where}.sizeBytes must be an integer ≥ 0`);
    }
    if (seen.has(instance.sopInstanceUid)) {
      throw invalidRequest(`${where}.sopInstanceUid ${instance.sopInstanceUid} is listed twice`);
    }
    seen.add(instance.sopInstanceUid);
  }
}

/** Files that stat() finds go on the wire; the others fail here, without a request. */
async function statFiles(
  instances: readonly StowInstance[],
): Promise<{ files: StowFile[]; unreadable: StowOutcome[] }> {
  const files: StowFile[] = [];
  const unreadable: StowOutcome[] = [];
  for (const instance of instances) {
    const { sopInstanceUid } = instance;
    try {
      const info = await stat(instance.path);
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a regular file' });
      files.push({ path: instance.path, sopInstanceUid, bytes: info.size });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const why = typeof code === 'string' ? code : 'unreadable';
      unreadable.push({
        sopInstanceUid,
        status: 'failure',
        reason: `the file to send cannot be read (${why})`,
      });
    }
  }
  return { files, unreadable };
}

/** PS3.18 10.5.3: a single-part answer without a body says everything through its status. */
function outcomeByStatus(sopInstanceUid: string, status: number): StowOutcome {
  if (status === 409) return { sopInstanceUid, status: 'failure', reason: statusLine(status) };
  if (status === 202) return { sopInstanceUid, status: 'warning', reason: statusLine(status) };
  return { sopInstanceUid, status: 'success' };
}

function outcomeOf(file: StowFile, answer: StowAnswer, multipart: boolean): StowOutcome {
  const { sopInstanceUid } = file;
  const verdict = answer.verdicts?.get(sopInstanceUid);
  if (verdict !== undefined) return { sopInstanceUid, ...verdict };
  if (answer.verdicts === undefined && !multipart) return outcomeByStatus(sopInstanceUid, answer.status);
  return { sopInstanceUid, status: 'failure', reason: NOT_MENTIONED };
}

/**
 * STOW-RS (PS3.18 10.5): sends the instances in order, batch by batch (multipart) or one by one,
 * each body streamed from its files, and resolves to one outcome per instance in input order.
 */
export async function stowInstances(
  dependencies: StowDependencies,
  endpoint: ResolvedEndpoint,
  instances: readonly StowInstance[],
  options: StowOptions,
): Promise<StowOutcome[]> {
  checkInstances(instances);
  if (typeof options?.multipart !== 'boolean') throw invalidRequest('multipart must be true or false');
  const { multipart, signal, onOutcome } = options;
  const limits = {
    maxInstances: positiveInteger(
      'maxInstancesPerRequest',
      options.maxInstancesPerRequest,
      DEFAULT_STOW_MAX_INSTANCES,
    ),
    maxBytes: positiveInteger('maxBytesPerRequest', options.maxBytesPerRequest, DEFAULT_STOW_MAX_BYTES),
  };
  const study =
    options.studyInstanceUid === undefined
      ? undefined
      : checkUid('studyInstanceUid', options.studyInstanceUid);
  const url = buildUrl(endpoint.baseUrl, study === undefined ? ['studies'] : ['studies', study]);

  const outcomes = new Map<string, StowOutcome>();
  const deliver = (outcome: StowOutcome) => {
    outcomes.set(outcome.sopInstanceUid, outcome);
    onOutcome?.(outcome);
  };
  const groups = multipart ? planBatches(instances, limits) : instances.map((instance) => [instance]);
  for (const group of groups) {
    if (signal?.aborted) {
      throw new DicomwebError(
        DicomwebErrorCode.Aborted,
        `the STOW-RS export was cancelled after ${outcomes.size} of ${instances.length} instances`,
      );
    }
    const { files, unreadable } = await statFiles(group);
    unreadable.forEach(deliver);
    if (files.length === 0) continue;
    const answer = await postFiles(dependencies, endpoint, url, files, multipart);
    const answered = files.map((file) => outcomeOf(file, answer, multipart));
    const failed = answered.filter((outcome) => outcome.status === 'failure').length;
    if (failed > 0) {
      dependencies.logger?.warn({
        msg: 'STOW-RS server did not store every instance',
        server: endpoint.hostPort,
        status: answer.status,
        instances: files.length,
        failed,
      });
    }
    answered.forEach(deliver);
  }
  return instances.map((instance) => outcomes.get(instance.sopInstanceUid) as StowOutcome);
}

async function postFiles(
  dependencies: StowDependencies,
  endpoint: ResolvedEndpoint,
  url: URL,
  files: readonly StowFile[],
  multipart: boolean,
): Promise<StowAnswer> {
  const boundary = newBoundary();
  const bytes = multipart ? multipartLength(files, boundary) : files[0].bytes;
  const started = performance.now();
  // The body factory opens the files again for the one retry after an OAuth2 refresh: a stream
  // that was (partly) sent cannot be replayed. undici bounds the upload with the endpoint's
  // headersTimeout, restarted whenever the socket pushes back and once the body has gone.
  const response = await dependencies.transport.send(
    endpoint,
    {
      method: 'POST',
      url,
      headers: {
        'content-type': multipart ? multipartContentType(boundary) : 'application/dicom',
        'content-length': String(bytes),
      },
      body: () => (multipart ? multipartBody(files, boundary) : singleBody(files[0])),
    },
    dependencies.dispatcher,
  );
  const answer = await readStowAnswer(response, endpoint, { multipart, instances: files.length, bytes });
  dependencies.logger?.debug({
    msg: 'STOW-RS request answered',
    server: endpoint.hostPort,
    status: answer.status,
    instances: files.length,
    bytes,
    ms: Math.round(performance.now() - started),
  });
  return answer;
}
