import type { DicomJson } from '@pacslink/dicom';
import { startPeers, testEgressGuard, type PeerEndpoints } from '@pacslink/testing';
import {
  DimseError,
  DimseErrorCode,
  isTransientDimseError,
  nCreate,
  nSet,
  type DimseConnectionOptions,
  type NormalizedResult,
} from '../src';
import { startOdilMppsScp, type OdilMppsScp, type ReceivedRequest } from './support/odil-mpps-scp';

// MPPS N-CREATE and N-SET (PS3.4 F.7) against an SCP built on odil (test/support/odil-mpps-scp.py),
// not on our engine: what it decodes is what a conformant peer reads from our bytes.
jest.setTimeout(60_000);

const MPPS = '1.2.840.10008.3.1.2.3.3';

let scp: OdilMppsScp;
let peers: PeerEndpoints;
let serial = 0;

beforeAll(async () => {
  [scp, peers] = await Promise.all([startOdilMppsScp(), startPeers()]);
});

afterAll(async () => {
  await scp?.stop();
});

function options(overrides: Partial<DimseConnectionOptions> = {}): DimseConnectionOptions {
  return {
    host: '127.0.0.1',
    port: scp.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: 'MPPS_SCP',
    connectTimeoutMs: 5_000,
    associationTimeoutMs: 5_000,
    pduTimeoutMs: 5_000,
    egress: testEgressGuard(),
    ...overrides,
  };
}

/** A fresh instance UID; `status` makes the test SCP answer that status (see odil-mpps-scp.py). */
function instanceUid(status?: number): string {
  serial += 1;
  const root = status === undefined ? '1.2.3.4' : `1.2.3.999.${status}`;
  return `${root}.${process.pid}.${Date.now()}.${serial}`;
}

/** PS3.4 Table F.7.2-1: an N-CREATE's attributes, a sequence with two items among them. */
function inProgress(charset: string, patientName: string, stepDescription: string): DicomJson {
  return {
    '00080005': { vr: 'CS', Value: [charset] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: patientName }] },
    '00100020': { vr: 'LO', Value: ['PID-7'] },
    '00400241': { vr: 'AE', Value: ['CT01'] },
    '00400244': { vr: 'DA', Value: ['20261207'] },
    '00400245': { vr: 'TM', Value: ['101500'] },
    '00400252': { vr: 'CS', Value: ['IN PROGRESS'] },
    '00400253': { vr: 'SH', Value: ['PPS-1'] },
    '00400254': { vr: 'LO', Value: [stepDescription] },
    '00400270': {
      vr: 'SQ',
      Value: [
        {
          '00080050': { vr: 'SH', Value: ['ACC-1'] },
          '0020000D': { vr: 'UI', Value: ['1.2.3.4.5.6'] },
          '00400007': { vr: 'LO', Value: [stepDescription] },
          '00400009': { vr: 'SH', Value: ['SPS-1'] },
        },
        {
          '00080050': { vr: 'SH', Value: ['ACC-2'] },
          '0020000D': { vr: 'UI', Value: ['1.2.3.4.5.7'] },
          '00400009': { vr: 'SH', Value: ['SPS-2'] },
        },
      ],
    },
  };
}

function lastReceived(): ReceivedRequest {
  const last = scp.received.at(-1);
  if (last === undefined) throw new Error('the test SCP received nothing');
  return last;
}

async function rejection(call: Promise<NormalizedResult>): Promise<DimseError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

describe('N-CREATE and N-SET arrive as sent (text in the declared character set, trap 6)', () => {
  it.each([
    ['ISO_IR 100', 'Müller^Jürgen', 'Thorax ärztlich, Übersicht'],
    ['ISO_IR 192', 'Иванов^Иван', 'КТ грудной клетки — 胸部'],
    ['ISO_IR 144', 'Иванов^Иван', 'КТ грудной клетки'],
  ])('%s: names and a sequence with two items, as odil decodes them', async (charset, name, description) => {
    const sopInstanceUid = instanceUid();
    const result = await nCreate(options(), {
      sopClassUid: MPPS,
      sopInstanceUid,
      dataSet: inProgress(charset, name, description),
    });
    expect(result).toMatchObject({ status: 'success', statusCode: 0, meaning: 'success', sopInstanceUid });

    const received = lastReceived();
    expect(received).toMatchObject({ command: 'N-CREATE', sopClassUid: MPPS, sopInstanceUid });
    expect(received.dataSet?.['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: name }] });
    expect(received.dataSet?.['00400254']).toEqual({ vr: 'LO', Value: [description] });
    expect(received.dataSet?.['00400252']).toEqual({ vr: 'CS', Value: ['IN PROGRESS'] });
    expect(received.dataSet?.['00400270']).toEqual({
      vr: 'SQ',
      Value: [
        {
          '00080050': { vr: 'SH', Value: ['ACC-1'] },
          '0020000D': { vr: 'UI', Value: ['1.2.3.4.5.6'] },
          '00400007': { vr: 'LO', Value: [description] },
          '00400009': { vr: 'SH', Value: ['SPS-1'] },
        },
        {
          '00080050': { vr: 'SH', Value: ['ACC-2'] },
          '0020000D': { vr: 'UI', Value: ['1.2.3.4.5.7'] },
          '00400009': { vr: 'SH', Value: ['SPS-2'] },
        },
      ],
    });
  });

  it('N-SET completes the step: the modifications, a sequence among them, reach the instance', async () => {
    const sopInstanceUid = instanceUid();
    await nCreate(options(), {
      sopClassUid: MPPS,
      sopInstanceUid,
      dataSet: inProgress('ISO_IR 100', 'Müller^Jürgen', 'Thorax'),
    });
    const modifications: DicomJson = {
      '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
      '00400250': { vr: 'DA', Value: ['20261207'] },
      '00400251': { vr: 'TM', Value: ['103000'] },
      '00400252': { vr: 'CS', Value: ['COMPLETED'] },
      '00400340': {
        vr: 'SQ',
        Value: [
          {
            '00081050': { vr: 'PN', Value: [{ Alphabetic: 'Schäfer^Anna' }] },
            '0020000E': { vr: 'UI', Value: ['1.2.3.4.5.6.1'] },
            '0008103E': { vr: 'LO', Value: ['Thorax nativ'] },
          },
        ],
      },
    };
    const result = await nSet(options(), { sopClassUid: MPPS, sopInstanceUid, modifications });
    expect(result).toMatchObject({ status: 'success', statusCode: 0, sopInstanceUid });
    const received = lastReceived();
    expect(received).toMatchObject({ command: 'N-SET', sopClassUid: MPPS, sopInstanceUid });
    expect(received.dataSet?.['00400252']).toEqual({ vr: 'CS', Value: ['COMPLETED'] });
    expect(received.dataSet?.['00400340']).toEqual({
      vr: 'SQ',
      Value: [
        {
          '00081050': { vr: 'PN', Value: [{ Alphabetic: 'Schäfer^Anna' }] },
          '0008103E': { vr: 'LO', Value: ['Thorax nativ'] },
          '0020000E': { vr: 'UI', Value: ['1.2.3.4.5.6.1'] },
        },
      ],
    });
  });
});

describe('statuses', () => {
  it('a second N-CREATE of the same instance: 0x0111 duplicate SOP instance, not transient', async () => {
    const sopInstanceUid = instanceUid();
    const request = { sopClassUid: MPPS, sopInstanceUid, dataSet: inProgress('ISO_IR 100', 'A^B', 'C') };
    await nCreate(options(), request);
    const error = await rejection(nCreate(options(), request));
    expect(error.code).toBe(DimseErrorCode.STATUS_FAILURE);
    expect(error.message).toBe('N-CREATE answered status 0x0111 (duplicate SOP instance)');
    expect(error.details.status).toBe(0x0111);
    expect(isTransientDimseError(error)).toBe(false);
  });

  it('an N-SET of an instance the peer does not hold: 0x0112 no such SOP instance', async () => {
    const error = await rejection(
      nSet(options(), {
        sopClassUid: MPPS,
        sopInstanceUid: instanceUid(),
        modifications: { '00400252': { vr: 'CS', Value: ['DISCONTINUED'] } },
      }),
    );
    expect(error.message).toBe('N-SET answered status 0x0112 (no such SOP instance)');
  });

  it.each([
    ['0x0001', 0x0001, 'warning: requested optional attributes are not supported'],
    ['0x0107', 0x0107, 'warning: attribute list error'],
    ['0x0116', 0x0116, 'warning: attribute value out of range'],
  ])('warning %s resolves with the status and its meaning', async (_, status, meaning) => {
    const sopInstanceUid = instanceUid(status);
    const result = await nCreate(options(), {
      sopClassUid: MPPS,
      sopInstanceUid,
      dataSet: inProgress('ISO_IR 192', 'A^B', 'C'),
    });
    expect(result).toMatchObject({ status: 'warning', statusCode: status, meaning, sopInstanceUid });
  });

  it.each([
    ['0x0106', 0x0106, 'N-SET answered status 0x0106 (invalid attribute value)', false],
    ['0x0110', 0x0110, 'N-SET answered status 0x0110 (processing failure)', false],
    ['0x0120', 0x0120, 'N-SET answered status 0x0120 (missing attribute)', false],
    ['0xA700', 0xa700, 'N-SET answered status 0xA700 (refused: out of resources)', true],
  ])('failure %s rejects STATUS_FAILURE with its meaning', async (_, status, message, transient) => {
    const error = await rejection(
      nSet(options(), {
        sopClassUid: MPPS,
        sopInstanceUid: instanceUid(status),
        modifications: { '00400252': { vr: 'CS', Value: ['COMPLETED'] } },
      }),
    );
    expect(error.code).toBe(DimseErrorCode.STATUS_FAILURE);
    expect(error.message).toBe(message);
    expect(error.details.status).toBe(status);
    expect(isTransientDimseError(error)).toBe(transient);
  });
});

describe('refusals', () => {
  it('a name the declared set cannot carry is refused before anything is sent, naming the attribute', async () => {
    const before = scp.received.length;
    const error = await rejection(
      nCreate(options(), {
        sopClassUid: MPPS,
        sopInstanceUid: instanceUid(),
        dataSet: inProgress('ISO_IR 100', 'Иванов^Иван', 'Thorax'),
      }),
    );
    expect(error.code).toBe(DimseErrorCode.INVALID_REQUEST);
    expect(error.message).toBe(
      'dataSet (0010,0010) PatientName: "И" cannot be encoded in ISO_IR 100, the data set\'s Specific Character Set',
    );
    expect(scp.received.length).toBe(before);
  });

  it('a peer without MPPS (Orthanc) rejects the presentation context', async () => {
    const { orthanc } = peers;
    const error = await rejection(
      nCreate(options({ host: orthanc.host, port: orthanc.port, calledAeTitle: orthanc.aet }), {
        sopClassUid: MPPS,
        sopInstanceUid: instanceUid(),
        dataSet: inProgress('ISO_IR 100', 'A^B', 'C'),
      }),
    );
    expect(error.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(error.message).toContain('Modality Performed Procedure Step');
  });
});
