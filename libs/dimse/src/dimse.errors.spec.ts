import {
  DimseError,
  DimseErrorCode,
  isTransientDimseError,
  isUnreachableDimseError,
  toDimseError,
  type DimseFailure,
  type FailureContext,
} from './dimse.errors';

const context: FailureContext = {
  host: 'pacs.example',
  port: 4243,
  callingAeTitle: 'PACSLINK',
  calledAeTitle: 'ORTHANC',
  command: 'C-ECHO',
  service: 'Verification',
  elapsedMs: 12,
};

const socket = (errorCode: string | undefined, phase: 'connect' | 'response' = 'connect'): DimseFailure => ({
  kind: 'socket-error',
  phase,
  errorCode,
  message: `connect ${errorCode ?? ''}`,
});

describe('toDimseError: one code and one plain message per observed failure', () => {
  it.each<[string, DimseFailure, DimseErrorCode, string]>([
    [
      'refused',
      socket('ECONNREFUSED'),
      DimseErrorCode.CONNECTION_REFUSED,
      'connection refused by pacs.example:4243 — nothing listens there',
    ],
    ['DNS', socket('ENOTFOUND'), DimseErrorCode.HOST_NOT_FOUND, 'host pacs.example not found (DNS)'],
    [
      'DNS down',
      socket('EAI_AGAIN'),
      DimseErrorCode.HOST_NOT_FOUND,
      'host pacs.example could not be resolved (DNS lookup failed temporarily: EAI_AGAIN)',
    ],
    [
      'no route',
      socket('EHOSTUNREACH'),
      DimseErrorCode.HOST_UNREACHABLE,
      'host pacs.example is unreachable (EHOSTUNREACH): no network route to it',
    ],
    [
      'kernel connect timeout',
      socket('ETIMEDOUT'),
      DimseErrorCode.TIMEOUT,
      'the TCP connection to pacs.example:4243 timed out (ETIMEDOUT)',
    ],
    [
      'reset',
      socket('ECONNRESET', 'response'),
      DimseErrorCode.CONNECTION_LOST,
      'the connection to pacs.example:4243 was reset by the peer (ECONNRESET) during the response',
    ],
    [
      'unknown socket error',
      socket(undefined),
      DimseErrorCode.CONNECTION_LOST,
      'network error with pacs.example:4243 during the connect: no code connect',
    ],
    [
      'connect timeout',
      { kind: 'timeout', phase: 'connect', timeoutMs: 3000 },
      DimseErrorCode.TIMEOUT,
      'no answer within 3000 ms (connect): no TCP connection to pacs.example:4243 (wrong host or port, or a firewall dropping packets?)',
    ],
    [
      'association timeout',
      { kind: 'timeout', phase: 'association', timeoutMs: 3000 },
      DimseErrorCode.TIMEOUT,
      'no answer within 3000 ms (association): pacs.example:4243 accepted the TCP connection but never answered the association request (is it a DICOM port?)',
    ],
    [
      'response timeout',
      { kind: 'timeout', phase: 'response', timeoutMs: 3000 },
      DimseErrorCode.TIMEOUT,
      'no answer within 3000 ms (response): the PACS accepted the association but did not answer the C-ECHO request',
    ],
    [
      'closed before association answer',
      { kind: 'closed-by-peer', phase: 'association' },
      DimseErrorCode.CONNECTION_LOST,
      'pacs.example:4243 closed the connection without answering the association request (is it a DICOM port, or does it require TLS?)',
    ],
    [
      'rejected',
      { kind: 'association-rejected', reject: { result: 1, source: 1, reason: 7 } },
      DimseErrorCode.ASSOCIATION_REJECTED,
      'association rejected permanently by the called AE (service user): called AE title not recognized — the PACS does not answer to AE title ORTHANC; check its AE title',
    ],
    [
      'aborted while associating',
      { kind: 'association-aborted', phase: 'association', abort: { source: 2, reason: 2 } },
      DimseErrorCode.ASSOCIATION_ABORTED,
      'association aborted by the peer (service provider: unexpected PDU) during the association',
    ],
    [
      'aborted by the PACS in answer to the request',
      { kind: 'association-aborted', phase: 'response', abort: { source: 0, reason: 0 } },
      DimseErrorCode.ASSOCIATION_ABORTED,
      'association aborted by the peer (service user) during the C-ECHO — a PACS does this e.g. when calling AE title PACSLINK may not use Verification',
    ],
    [
      'context rejected',
      { kind: 'context-rejected', result: 3 },
      DimseErrorCode.PRESENTATION_CONTEXT_REJECTED,
      'the PACS does not accept Verification (presentation context rejected: abstract syntax not supported)',
    ],
    [
      'no final response',
      { kind: 'no-final-response' },
      DimseErrorCode.NO_RESPONSE,
      'the PACS ended the association without a final C-ECHO response',
    ],
    [
      'status',
      { kind: 'status', status: 0x0110 },
      DimseErrorCode.STATUS_FAILURE,
      'C-ECHO answered status 0x0110 (processing failure)',
    ],
    [
      'status with comment',
      { kind: 'status', status: 0xc000, errorComment: 'database offline' },
      DimseErrorCode.STATUS_FAILURE,
      'C-ECHO answered status 0xC000 (failed: unable to process): “database offline”',
    ],
    [
      'status naming attributes (N-CREATE, N-SET)',
      { kind: 'status', status: 0x0120, attributes: ['00400270'], errorComment: 'step missing' },
      DimseErrorCode.STATUS_FAILURE,
      'C-ECHO answered status 0x0120 (missing attribute) for (0040,0270): “step missing”',
    ],
    [
      'garbage',
      { kind: 'protocol', phase: 'association', detail: 'Unknown PDU type: 99' },
      DimseErrorCode.PROTOCOL_ERROR,
      'pacs.example:4243 sent data this client cannot read during the association: Unknown PDU type: 99',
    ],
    [
      'an HTTP server',
      {
        kind: 'protocol',
        phase: 'association',
        detail: 'x',
        firstBytes: Buffer.from('HTTP/1.1 400 Bad Request'),
      },
      DimseErrorCode.PROTOCOL_ERROR,
      'pacs.example:4243 answered like an HTTP server, not a DICOM peer (is 4243 its HTTP port?)',
    ],
    [
      'invalid',
      { kind: 'invalid-request', problem: 'port must be an integer 1..65535 (got 0)' },
      DimseErrorCode.INVALID_REQUEST,
      'port must be an integer 1..65535 (got 0)',
    ],
  ])('%s', (_name, failure, code, message) => {
    const error = toDimseError(failure, context);
    expect(error).toBeInstanceOf(DimseError);
    expect(error.name).toBe('DimseError');
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.details.elapsedMs).toBe(12);
  });

  it('keeps the raw protocol facts in details', () => {
    const error = toDimseError(
      { kind: 'association-rejected', reject: { result: 2, source: 3, reason: 1 } },
      context,
    );
    expect(error.details).toEqual({
      phase: 'association',
      reject: { result: 2, source: 3, reason: 1 },
      elapsedMs: 12,
    });
  });
});

describe('isTransientDimseError: retry or give up', () => {
  const transient = (failure: DimseFailure): boolean => isTransientDimseError(toDimseError(failure, context));

  it('retries what may pass by itself', () => {
    expect(transient(socket('ECONNREFUSED'))).toBe(true);
    expect(transient({ kind: 'timeout', phase: 'response', timeoutMs: 1 })).toBe(true);
    expect(transient({ kind: 'association-rejected', reject: { result: 2, source: 3, reason: 1 } })).toBe(
      true,
    );
    expect(transient({ kind: 'status', status: 0xa700 })).toBe(true);
    expect(transient(socket('EAI_AGAIN'))).toBe(true);
  });

  it('does not retry what needs someone to change a configuration', () => {
    expect(transient(socket('ENOTFOUND'))).toBe(false);
    expect(transient({ kind: 'association-rejected', reject: { result: 1, source: 1, reason: 7 } })).toBe(
      false,
    );
    expect(transient({ kind: 'context-rejected', result: 3 })).toBe(false);
    expect(transient({ kind: 'status', status: 0x0110 })).toBe(false);
    expect(transient({ kind: 'invalid-request', problem: 'x' })).toBe(false);
    expect(transient({ kind: 'protocol', phase: 'association', detail: 'x' })).toBe(false);
  });

  it("does not retry the caller's own cancellation", () => {
    const error = toDimseError({ kind: 'cancelled', detail: 'stopped after 1 of 2 instances' }, context);
    expect(error.code).toBe(DimseErrorCode.CANCELLED);
    expect(error.message).toBe(`${context.command} cancelled: stopped after 1 of 2 instances`);
    expect(isTransientDimseError(error)).toBe(false);
  });
});

describe("isUnreachableDimseError: what counts toward a PACS's circuit", () => {
  const unreachable = (failure: DimseFailure): boolean | undefined =>
    isUnreachableDimseError(toDimseError(failure, context));

  it('counts a PACS nobody reaches, or that never answers the association request', () => {
    expect(unreachable(socket('ECONNREFUSED'))).toBe(true);
    expect(unreachable(socket('EHOSTUNREACH'))).toBe(true);
    expect(unreachable(socket('EAI_AGAIN'))).toBe(true);
    expect(unreachable(socket('ETIMEDOUT'))).toBe(true);
    expect(unreachable({ kind: 'timeout', phase: 'connect', timeoutMs: 1 })).toBe(true);
    expect(unreachable({ kind: 'timeout', phase: 'association', timeoutMs: 1 })).toBe(true);
    expect(unreachable({ kind: 'closed-by-peer', phase: 'association' })).toBe(true);
  });

  it('does not count a PACS that answered: a rejection (transient too), a status, slowness after the association', () => {
    expect(unreachable({ kind: 'association-rejected', reject: { result: 2, source: 3, reason: 1 } })).toBe(
      false,
    );
    expect(unreachable({ kind: 'association-rejected', reject: { result: 1, source: 1, reason: 7 } })).toBe(
      false,
    );
    expect(unreachable({ kind: 'timeout', phase: 'response', timeoutMs: 1 })).toBe(false);
    expect(unreachable({ kind: 'closed-by-peer', phase: 'response' })).toBe(false);
    expect(unreachable(socket('ECONNRESET', 'response'))).toBe(false);
    expect(
      unreachable({ kind: 'association-aborted', phase: 'association', abort: { source: 2, reason: 0 } }),
    ).toBe(false);
    expect(unreachable({ kind: 'status', status: 0xa700 })).toBe(false);
    expect(unreachable({ kind: 'protocol', phase: 'association', detail: 'x' })).toBe(false);
  });

  it('says nothing when nothing was sent', () => {
    expect(unreachable({ kind: 'invalid-request', problem: 'x' })).toBeUndefined();
    expect(unreachable({ kind: 'cancelled', detail: 'x' })).toBeUndefined();
    expect(unreachable({ kind: 'egress-refused', detail: 'x' })).toBeUndefined();
  });
});
