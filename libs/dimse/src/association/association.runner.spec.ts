import type { LookupAddress } from 'node:dns';
import { EgressGuard, EgressPolicy, parseCidrList, type Resolver } from '@pacslink/egress';
import { DimseError, DimseErrorCode, isTransientDimseError } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';
import { echoOperation } from '../operations/echo.operation';
import { findOperation } from '../operations/find.operation';
import { buildFindIdentifier } from '../operations/find-identifier';
import { SopClassUid, TransferSyntaxUid } from '../protocol/uids';
import { runAssociation, type DimseOperation } from './association.runner';
import type { Transport, TransportEvents } from './transport';

// The association logic against a scripted transport: every phase, every way to end, no I/O
// (names resolve through a table, never through a name server).

const PACS_ADDRESS: LookupAddress = { address: '192.0.2.10', family: 4 };

function egressGuard(allow: string, resolver: Resolver): EgressGuard {
  return new EgressGuard(new EgressPolicy(parseCidrList(allow), []), { resolver, localAddresses: () => [] });
}

const OPTIONS: DimseConnectionOptions = {
  host: 'pacs.example',
  port: 104,
  callingAeTitle: 'PACSLINK',
  calledAeTitle: 'PACS',
  connectTimeoutMs: 1_000,
  associationTimeoutMs: 2_000,
  pduTimeoutMs: 3_000,
  egress: egressGuard('192.0.2.0/24', () => Promise.resolve([PACS_ADDRESS])),
};

const VERIFICATION_OK = [
  {
    abstractSyntaxUid: SopClassUid.Verification,
    result: 0,
    transferSyntaxUid: TransferSyntaxUid.ExplicitVRLittleEndian,
  },
];

interface Harness {
  events: TransportEvents;
  calls: string[];
  outcome: Promise<{ value?: unknown; elapsedMs?: number; error?: DimseError }>;
  transportCalls: number;
  /** The host the network stack was told to connect to. */
  connectedTo?: string;
}

/** Starts the association; resolves once the transport was called (or the call ended without it). */
async function start<T>(
  operation: DimseOperation<T>,
  options: DimseConnectionOptions = OPTIONS,
): Promise<Harness> {
  const harness = { calls: [] as string[], transportCalls: 0 } as Harness;
  let called = (): void => undefined;
  const transportCalled = new Promise<void>((resolve) => (called = resolve));
  const transport: Transport = (params, _request, events) => {
    harness.transportCalls++;
    harness.connectedTo = params.host;
    harness.events = events;
    called();
    return {
      cancel: () => harness.calls.push('cancel'),
      abort: () => harness.calls.push('abort'),
      close: () => harness.calls.push('close'),
    };
  };
  harness.outcome = runAssociation(options, operation, transport).then(
    ({ value, elapsedMs }) => ({ value, elapsedMs }),
    (error: DimseError) => ({ error }),
  );
  await Promise.race([transportCalled, harness.outcome]);
  return harness;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('phases and their bounds', () => {
  it('connect: closes after connectTimeoutMs and reports TIMEOUT (connect)', async () => {
    const h = await start(echoOperation());
    jest.advanceTimersByTime(999);
    expect(h.calls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(h.calls).toEqual(['close']);
    h.events.closed();
    const { error } = await h.outcome;
    expect(error?.code).toBe(DimseErrorCode.TIMEOUT);
    expect(error?.details).toMatchObject({ phase: 'connect', timeoutMs: 1_000 });
  });

  it('association: the bound starts at the TCP connection', async () => {
    const h = await start(echoOperation());
    jest.advanceTimersByTime(900);
    h.events.connected();
    jest.advanceTimersByTime(1_999);
    expect(h.calls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(h.calls).toEqual(['close']);
    h.events.closed();
    expect((await h.outcome).error?.details).toMatchObject({ phase: 'association', timeoutMs: 2_000 });
  });

  it('response: A-ABORT when the peer stays silent after accepting', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted(VERIFICATION_OK);
    jest.advanceTimersByTime(3_000);
    expect(h.calls).toEqual(['abort']);
    h.events.closed();
    expect((await h.outcome).error?.message).toMatch(/^no answer within 3000 ms \(response\)/);
  });

  it('bytes from the peer restart the response bound', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted(VERIFICATION_OK);
    jest.advanceTimersByTime(2_500);
    h.events.data(Buffer.from([4, 0]));
    jest.advanceTimersByTime(2_500);
    expect(h.calls).toEqual([]);
    h.events.response({ status: 0 });
    h.events.released();
    jest.runOnlyPendingTimers();
    h.events.closed();
    expect((await h.outcome).error).toBeUndefined();
  });
});

describe('endings', () => {
  it('success: response 0x0000, release answered, socket closed by us at once (trap 11)', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted(VERIFICATION_OK);
    h.events.response({ status: 0 });
    h.events.released();
    expect(h.calls).toEqual([]);
    jest.advanceTimersToNextTimer();
    expect(h.calls).toEqual(['close']);
    h.events.closed();
    expect(await h.outcome).toEqual({ value: undefined, elapsedMs: expect.any(Number) as number });
  });

  it('a rejected presentation context fails even though the stack releases normally (trap 4)', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted([{ abstractSyntaxUid: SopClassUid.Verification, result: 3 }]);
    h.events.released();
    jest.runOnlyPendingTimers();
    h.events.closed();
    const { error } = await h.outcome;
    expect(error?.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(error?.details.presentationContextResult).toBe(3);
  });

  it('a context missing from the accept is rejected too', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted([]);
    h.events.closed();
    expect((await h.outcome).error?.message).toBe(
      'the PACS does not accept Verification (presentation context rejected: not answered in the association accept)',
    );
  });

  it('released without a final response: NO_RESPONSE', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted(VERIFICATION_OK);
    h.events.released();
    h.events.closed();
    expect((await h.outcome).error?.code).toBe(DimseErrorCode.NO_RESPONSE);
  });

  it('closed without anything: CONNECTION_LOST in the phase it happened', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.closed();
    expect((await h.outcome).error?.details.phase).toBe('association');
    expect((await h.outcome).error?.code).toBe(DimseErrorCode.CONNECTION_LOST);
  });

  it("the socket's error code wins over the stack's message about it", async () => {
    const h = await start(echoOperation());
    h.events.stackError(new Error('PACS -> Connection error: connect ECONNREFUSED 127.0.0.1:104'));
    h.events.socketError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    h.events.closed();
    expect((await h.outcome).error?.code).toBe(DimseErrorCode.CONNECTION_REFUSED);
  });

  it('a stack error alone is a PROTOCOL_ERROR, or a TIMEOUT if the stack timed out', async () => {
    const garbage = await start(echoOperation());
    garbage.events.connected();
    garbage.events.stackError(new Error('PACS -> Connection error: Unknown PDU type: 99'));
    jest.advanceTimersByTime(0);
    expect(garbage.calls).toEqual(['close']);
    garbage.events.closed();
    expect((await garbage.outcome).error?.message).toContain('Unknown PDU type: 99');

    const slow = await start(echoOperation());
    slow.events.stackError(new Error('Connection timeout: PACS -> Exceeded association timeout'));
    slow.events.closed();
    expect((await slow.outcome).error?.code).toBe(DimseErrorCode.TIMEOUT);
  });

  it('rejected: the decoded reason, connection closed by us', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.rejected({ result: 1, source: 1, reason: 3 });
    jest.advanceTimersByTime(0);
    expect(h.calls).toEqual(['close']);
    h.events.closed();
    expect((await h.outcome).error?.message).toMatch(
      /calling AE title not recognized — register calling AE title PACSLINK/,
    );
  });

  it('a failure status on the final response: normal release, STATUS_FAILURE', async () => {
    const h = await start(echoOperation());
    h.events.connected();
    h.events.accepted(VERIFICATION_OK);
    h.events.response({ status: 0x0122 });
    expect(h.calls).toEqual([]);
    h.events.released();
    jest.runOnlyPendingTimers();
    h.events.closed();
    expect((await h.outcome).error?.message).toBe('C-ECHO answered status 0x0122 (SOP class not supported)');
  });

  it('the peer never answers the release: success after the bound, with a warning', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const h = await start(echoOperation(), {
      ...OPTIONS,
      logger: { debug: () => undefined, warn: (e) => warnings.push(e) },
    });
    h.events.connected();
    h.events.accepted(VERIFICATION_OK);
    h.events.response({ status: 0 });
    jest.advanceTimersByTime(3_000);
    expect(h.calls).toEqual(['close']);
    h.events.closed();
    expect((await h.outcome).error).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('invalid options: nothing is opened', async () => {
    const h = await start(echoOperation(), { ...OPTIONS, pduTimeoutMs: 0 });
    const { error } = await h.outcome;
    expect(error?.code).toBe(DimseErrorCode.INVALID_REQUEST);
    expect(error?.message).toBe('pduTimeoutMs must be an integer 1..3600000 (got 0)');
    expect(h.transportCalls).toBe(0);
  });
});

describe('C-FIND through the runner', () => {
  const FIND_OK = [
    {
      abstractSyntaxUid: SopClassUid.StudyRootQueryRetrieveInformationModelFind,
      result: 0,
      transferSyntaxUid: TransferSyntaxUid.ImplicitVRLittleEndian,
    },
  ];
  const identifier = (uid: string): { bytes: Buffer; transferSyntaxUid: string } => {
    const value = Buffer.from(uid.length % 2 === 0 ? uid : `${uid}\0`, 'latin1');
    const header = Buffer.from([0x20, 0x00, 0x0d, 0x00, value.length, 0, 0, 0]);
    return {
      bytes: Buffer.concat([header, value]),
      transferSyntaxUid: TransferSyntaxUid.ImplicitVRLittleEndian,
    };
  };
  const query = { level: 'STUDY' as const, keys: {}, returnKeys: [] };

  it('collects 0xFF00 and 0xFF01 matches until the final status (trap 3)', async () => {
    const h = await start(findOperation(query, buildFindIdentifier(query)));
    h.events.connected();
    h.events.accepted(FIND_OK);
    h.events.response({ status: 0xff01, identifier: identifier('1.2.1') });
    h.events.response({ status: 0xff00, identifier: identifier('1.2.2') });
    h.events.response({ status: 0xff01, identifier: identifier('1.2.3') });
    h.events.response({ status: 0x0000 });
    h.events.released();
    h.events.closed();
    const { value } = await h.outcome;
    expect((value as Array<Record<string, { Value: string[] }>>).map((r) => r['0020000D'].Value[0])).toEqual([
      '1.2.1',
      '1.2.2',
      '1.2.3',
    ]);
  });

  it('an unreadable match aborts the association: PROTOCOL_ERROR', async () => {
    const h = await start(findOperation(query, buildFindIdentifier(query)));
    h.events.connected();
    h.events.accepted(FIND_OK);
    h.events.response({
      status: 0xff00,
      identifier: {
        bytes: Buffer.from([1, 2, 3]),
        transferSyntaxUid: TransferSyntaxUid.ImplicitVRLittleEndian,
      },
    });
    expect(h.calls).toEqual(['abort']);
    h.events.closed();
    expect((await h.outcome).error?.message).toMatch(
      /sent data this client cannot read during the response: unreadable C-FIND identifier/,
    );
  });

  it('limit: one C-CANCEL, later matches dropped, Cancel status accepted', async () => {
    const limited = { ...query, limit: 1 };
    const h = await start(findOperation(limited, buildFindIdentifier(limited)));
    h.events.connected();
    h.events.accepted(FIND_OK);
    h.events.response({ status: 0xff00, identifier: identifier('1.2.1') });
    h.events.response({ status: 0xff00, identifier: identifier('1.2.2') });
    h.events.response({ status: 0xfe00 });
    h.events.released();
    h.events.closed();
    expect(h.calls.filter((call) => call === 'cancel')).toHaveLength(1);
    expect((await h.outcome).value).toHaveLength(1);
  });

  it('a Cancel status nobody asked for is a failure', async () => {
    const h = await start(findOperation(query, buildFindIdentifier(query)));
    h.events.connected();
    h.events.accepted(FIND_OK);
    h.events.response({ status: 0xfe00 });
    h.events.released();
    h.events.closed();
    expect((await h.outcome).error?.message).toBe('C-FIND answered status 0xFE00 (cancelled)');
  });

  it('encodes the identifier in the accepted transfer syntax', () => {
    const operation = findOperation(query, buildFindIdentifier(query));
    if (operation.request.command !== 'C-FIND') throw new Error('not a C-FIND');
    const implicit = operation.request.encodeIdentifier(TransferSyntaxUid.ImplicitVRLittleEndian);
    const explicit = operation.request.encodeIdentifier(TransferSyntaxUid.ExplicitVRLittleEndian);
    expect(implicit.subarray(4, 8)).toEqual(Buffer.from([6, 0, 0, 0]));
    expect(explicit.subarray(4, 6).toString('latin1')).toBe('CS');
  });
});

describe('egress: the peer is resolved and checked before the network stack is called', () => {
  const withEgress = (allow: string, resolver: Resolver): DimseConnectionOptions => ({
    ...OPTIONS,
    egress: egressGuard(allow, resolver),
  });

  it('dcmjs-dimse is given the checked address, never the name (it would look it up again)', async () => {
    const h = await start(echoOperation());
    expect(h.connectedTo).toBe('192.0.2.10');
    h.events.closed();
    await h.outcome;
  });

  it('a name that resolves to the metadata address: EGRESS_REFUSED, permanent, no connect', async () => {
    const options = withEgress('0.0.0.0/0', () =>
      Promise.resolve([{ address: '169.254.169.254', family: 4 }]),
    );
    const h = await start(echoOperation(), options);
    const { error } = await h.outcome;
    expect(error).toMatchObject({
      code: DimseErrorCode.EGRESS_REFUSED,
      message:
        'pacs.example:104 (169.254.169.254) is a link-local or cloud metadata address: link-local and metadata addresses are never allowed',
      details: { phase: 'connect' },
    });
    expect(error && isTransientDimseError(error)).toBe(false);
    expect(h.transportCalls).toBe(0);
  });

  it('DNS rebinding: each association resolves anew, and the forbidden answer is refused', async () => {
    const answers: LookupAddress[][] = [[PACS_ADDRESS], [{ address: '127.0.0.1', family: 4 }]];
    const options = withEgress('192.0.2.0/24', () => Promise.resolve(answers.shift() ?? []));
    const first = await start(echoOperation(), options);
    expect(first.connectedTo).toBe('192.0.2.10');
    first.events.closed();
    await first.outcome;
    const second = await start(echoOperation(), options);
    expect((await second.outcome).error?.message).toBe(
      'pacs.example:104 (127.0.0.1) is not an allowed PACS address (EGRESS_ALLOW_CIDRS)',
    );
    expect(second.transportCalls).toBe(0);
  });

  it('a name that does not resolve: HOST_NOT_FOUND, as before', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND pacs.example'), { code: 'ENOTFOUND' });
    const h = await start(
      echoOperation(),
      withEgress('0.0.0.0/0', () => Promise.reject(notFound)),
    );
    expect((await h.outcome).error).toMatchObject({
      code: DimseErrorCode.HOST_NOT_FOUND,
      message: 'host pacs.example not found (DNS)',
    });
  });

  it('a name server that never answers: TIMEOUT (connect) after connectTimeoutMs', async () => {
    const h = start(
      echoOperation(),
      withEgress('0.0.0.0/0', () => new Promise(() => undefined)),
    );
    await jest.advanceTimersByTimeAsync(1_000);
    const { error } = await (await h).outcome;
    expect(error).toMatchObject({
      code: DimseErrorCode.TIMEOUT,
      details: { phase: 'connect', timeoutMs: 1_000 },
    });
  });
});
