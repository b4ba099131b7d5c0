import { Readable } from 'node:stream';
import type { DicomJson } from '@pacslink/dicom';
import { resolveEndpoint } from './dicomweb-endpoint';
import type { DicomwebResponse, ResponseBody } from './dicomweb-transport';
import { DicomwebError, DicomwebErrorCode } from './dicomweb.errors';
import { describeStowReason } from './stow-reasons';
import { readStowAnswer, retryAfterMs, stowStatusFailure, stowVerdicts } from './stow-response';

const endpoint = resolveEndpoint({
  url: 'https://pacs.example/dicom-web',
  auth: { method: 'basic', username: 'pacs', password: 'pacs-secret' },
  pacsAeTitle: 'PACS',
  timeoutMs: 1_000,
});
const MULTIPART = { multipart: true, instances: 10, bytes: 5_000_000 };
const SINGLE = { multipart: false, instances: 1, bytes: 500_000 };

const uid = (value: string) => ({ '00081155': { vr: 'UI', Value: [value] } });
const us = (tag: string, value: number | string) => ({ [tag]: { vr: 'US', Value: [value] } });

/** Orthanc 1.10's answer to a batch where 1.1 was stored, 1.2 stored with a warning, 1.3 failed. */
const ANSWER: DicomJson = {
  '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
  '00081199': { vr: 'SQ', Value: [uid('1.1'), { ...uid('1.2'), ...us('00081196', 0xb000) }] },
  '00081198': { vr: 'SQ', Value: [{ ...uid('1.3'), ...us('00081197', 272) }] },
};

function response(status: number, body: string, headers: Record<string, string> = {}): DicomwebResponse {
  const stream = Readable.from([Buffer.from(body)]) as ResponseBody;
  stream.dump = () => {
    stream.resume();
    return Promise.resolve();
  };
  return {
    status,
    headers,
    body: stream,
    url: new URL('https://pacs.example/dicom-web/studies'),
    secrets: endpoint.secrets,
    failure: (error) => new DicomwebError(DicomwebErrorCode.NetworkError, String(error)),
  };
}

const facts = (status: number, snippet = '') => ({ status, snippet, contentType: 'text/plain' });

describe('describeStowReason (PS3.4 B.2.3 / PS3.18 10.5.3)', () => {
  it.each([
    [0xa700, '0xA700 out of resources'],
    [0xa7ff, '0xA7FF out of resources'],
    [0xa900, '0xA900 data set does not match SOP class'],
    [0xc000, '0xC000 cannot understand'],
    [0xc0de, '0xC0DE cannot understand'],
    [0xc122, '0xC122 transfer syntax not supported'],
    [0x0110, '0x0110 processing failure'],
    [0x0122, '0x0122 SOP class not supported'],
    [0x0124, '0x0124 not authorized'],
    [0xb000, '0xB000 coercion of data elements'],
    [0xb007, '0xB007 data set does not match SOP class'],
    [0x1234, '0x1234 unknown status code'],
  ])('%i → %s', (code, words) => {
    expect(describeStowReason(code)).toBe(words);
  });
});

describe('stowVerdicts', () => {
  it('reads ReferencedSOPSequence (warnings included) and FailedSOPSequence with the reason in words', () => {
    expect([...stowVerdicts(ANSWER)]).toEqual([
      ['1.1', { status: 'success' }],
      ['1.2', { status: 'warning', reason: '0xB000 coercion of data elements' }],
      ['1.3', { status: 'failure', reason: '0x0110 processing failure' }],
    ]);
  });

  it('takes reasons sent as hex or decimal strings, and says when a failure has none', () => {
    const verdicts = stowVerdicts({
      '00081198': {
        vr: 'SQ',
        Value: [
          { ...uid('2.1'), ...us('00081197', 'A700') },
          { ...uid('2.2'), ...us('00081197', '49152') },
          uid('2.3'),
        ],
      },
    });
    expect(verdicts.get('2.1')).toEqual({ status: 'failure', reason: '0xA700 out of resources' });
    expect(verdicts.get('2.2')).toEqual({ status: 'failure', reason: '0xC000 cannot understand' });
    expect(verdicts.get('2.3')).toEqual({ status: 'failure', reason: 'the server gave no FailureReason' });
  });

  it('a failure wins when a server lists an instance in both sequences', () => {
    const verdicts = stowVerdicts({
      '00081199': { vr: 'SQ', Value: [uid('3.1')] },
      '00081198': { vr: 'SQ', Value: [{ ...uid('3.1'), ...us('00081197', 0xa900) }] },
    });
    expect(verdicts.get('3.1')?.status).toBe('failure');
  });
});

describe('retryAfterMs (RFC 9110 10.2.3)', () => {
  it('reads seconds and HTTP dates, ignores nonsense', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('stowStatusFailure', () => {
  const cases: Array<[number, object, DicomwebErrorCode, boolean, string]> = [
    [
      400,
      MULTIPART,
      DicomwebErrorCode.RequestRejected,
      false,
      'the server refused the STOW-RS request as malformed (HTTP 400 Bad Request): bad part',
    ],
    [401, MULTIPART, DicomwebErrorCode.AuthenticationRejected, false, 'authentication rejected (HTTP 401)'],
    [403, MULTIPART, DicomwebErrorCode.AuthenticationRejected, false, 'authentication rejected (HTTP 403)'],
    [
      404,
      MULTIPART,
      DicomwebErrorCode.NotFound,
      false,
      'no DICOMweb service at https://pacs.example/dicom-web (HTTP 404)',
    ],
    [
      413,
      MULTIPART,
      DicomwebErrorCode.RequestRejected,
      false,
      'the server refuses a request this large (HTTP 413 Payload Too Large; 10 instances, 5000000 bytes) — lower maxBytesPerRequest',
    ],
    [
      413,
      SINGLE,
      DicomwebErrorCode.RequestRejected,
      false,
      'the server refuses an instance this large (HTTP 413 Payload Too Large; 500000 bytes)',
    ],
    [
      415,
      MULTIPART,
      DicomwebErrorCode.RequestRejected,
      false,
      'the server does not take multipart/related; type="application/dicom" bodies (HTTP 415 Unsupported Media Type) — is the URL a STOW-RS service?',
    ],
    [
      500,
      MULTIPART,
      DicomwebErrorCode.ServerError,
      true,
      'the server failed (HTTP 500 Internal Server Error): bad part',
    ],
    [503, MULTIPART, DicomwebErrorCode.ServerError, true, 'the server failed (HTTP 503 Service Unavailable)'],
  ];
  it.each(cases)('%i → %s', (status, request, code, retryable, message) => {
    const error = stowStatusFailure(facts(status, 'bad part'), endpoint, request as typeof MULTIPART);
    expect(error).toMatchObject({ code, httpStatus: status, disposition: { retryable } });
    expect(error.message).toContain(message);
  });

  it('429 is transient and carries Retry-After', () => {
    const error = stowStatusFailure(facts(429), endpoint, MULTIPART, 30_000);
    expect(error).toMatchObject({
      code: DicomwebErrorCode.RateLimited,
      retryAfterMs: 30_000,
      message: 'the server is busy (HTTP 429 Too Many Requests) (it asks to wait 30 s) — try again later',
      disposition: { retryable: true },
    });
  });
});

describe('readStowAnswer', () => {
  it('200 with DICOM JSON: the verdicts', async () => {
    const answer = await readStowAnswer(
      response(200, JSON.stringify(ANSWER), { 'content-type': 'application/dicom+json' }),
      endpoint,
      MULTIPART,
    );
    expect(answer.status).toBe(200);
    expect(answer.verdicts?.get('1.3')).toEqual({ status: 'failure', reason: '0x0110 processing failure' });
  });

  it('409 without a Content-Type (as Orthanc 1.10 sends it) and plain application/json are read', async () => {
    const conflict = await readStowAnswer(response(409, JSON.stringify(ANSWER)), endpoint, MULTIPART);
    expect(conflict.verdicts?.size).toBe(3);
    const wrapped = await readStowAnswer(
      response(202, JSON.stringify([ANSWER]), { 'content-type': 'application/json' }),
      endpoint,
      MULTIPART,
    );
    expect(wrapped.verdicts?.size).toBe(3);
  });

  it('an empty answer leaves the HTTP status to speak', async () => {
    expect(await readStowAnswer(response(200, ''), endpoint, SINGLE)).toEqual({ status: 200 });
    expect(
      await readStowAnswer(
        response(409, '<html>conflict</html>', { 'content-type': 'text/html' }),
        endpoint,
        SINGLE,
      ),
    ).toEqual({
      status: 409,
    });
  });

  it('200 with a login page is not a STOW-RS answer', async () => {
    const error = await readStowAnswer(
      response(200, '<!doctype html><title>Sign in</title>', { 'content-type': 'text/html' }),
      endpoint,
      MULTIPART,
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: DicomwebErrorCode.NotDicomweb, httpStatus: 200 });
    expect((error as Error).message).toMatch(
      /^not a STOW-RS answer \(HTTP 200 OK\): expected a DICOM JSON dataset, got text\/html/,
    );
  });

  it('503 with Retry-After rejects transiently with the delay', async () => {
    const error = await readStowAnswer(
      response(503, 'busy', { 'retry-after': '7' }),
      endpoint,
      MULTIPART,
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: DicomwebErrorCode.ServerError,
      retryAfterMs: 7_000,
      disposition: { retryable: true },
    });
  });
});
