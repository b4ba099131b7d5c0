import type { DicomJson } from '@pacslink/dicom';
import { testEgressGuard } from '@pacslink/testing';
import { DimseError, DimseErrorCode, nCreate, nSet, type DimseConnectionOptions } from '../src';
import { startScriptedScp, type ScriptedScp, type ScriptedScpScript } from './support/scripted-scp';

// N-CREATE and N-SET against the scripted PS3.8 peer, for answers odil does not give on demand:
// a response about another SOP instance than the one asked for.
jest.setTimeout(15_000);

const MPPS = '1.2.840.10008.3.1.2.3.3';
const OURS = '1.2.826.0.1.3680043.10.854.1.7';
const OTHER = '1.2.826.0.1.3680043.10.854.1.8';
const N_CREATE_RQ = 0x0140;
const N_SET_RQ = 0x0120;

let scp: ScriptedScp | undefined;

afterEach(async () => {
  await scp?.close();
  scp = undefined;
});

async function start(script: ScriptedScpScript): Promise<ScriptedScp> {
  scp = await startScriptedScp(script);
  return scp;
}

function target(peer: ScriptedScp): DimseConnectionOptions {
  return {
    host: '127.0.0.1',
    port: peer.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: peer.aeTitle,
    connectTimeoutMs: 2_000,
    associationTimeoutMs: 2_000,
    pduTimeoutMs: 2_000,
    egress: testEgressGuard(),
  };
}

async function rejection(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

const dataSet: DicomJson = { '00400252': { vr: 'CS', Value: ['IN PROGRESS'] } };

describe('nCreate / nSet against the scripted peer', () => {
  it.each([
    ['N-CREATE', N_CREATE_RQ],
    ['N-SET', N_SET_RQ],
  ])(
    'an %s-RSP about another SOP instance: PROTOCOL_ERROR naming both, never a success for the wrong instance',
    async (command, requestField) => {
      const peer = await start({
        onCommand: (request, conversation) => {
          if (request.commandField === requestField) {
            conversation.respond(request, 0x0000, undefined, undefined, OTHER);
          }
        },
      });
      const call =
        command === 'N-CREATE'
          ? nCreate(target(peer), { sopClassUid: MPPS, sopInstanceUid: OURS, dataSet })
          : nSet(target(peer), { sopClassUid: MPPS, sopInstanceUid: OURS, modifications: dataSet });
      const error = await rejection(call);
      expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
      expect(error.message).toContain(
        `the ${command}-RSP is about SOP instance \u201c${OTHER}\u201d, not ${OURS}, the one requested`,
      );
    },
  );

  it('a response UID that is no UID is quoted, bounded', async () => {
    const peer = await start({
      onCommand: (request, conversation) => {
        if (request.commandField === N_CREATE_RQ) {
          conversation.respond(request, 0x0000, undefined, undefined, `../${'x'.repeat(500)}`);
        }
      },
    });
    const error = await rejection(
      nCreate(target(peer), { sopClassUid: MPPS, sopInstanceUid: OURS, dataSet }),
    );
    expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
    expect(error.message).toContain('the N-CREATE-RSP is about SOP instance \u201c../xxx');
    expect(error.message.length).toBeLessThan(400);
  });

  it('a response naming the instance requested, or none: success', async () => {
    const peer = await start({
      onCommand: (request, conversation) => {
        if (request.commandField === N_CREATE_RQ) {
          conversation.respond(request, 0x0000, undefined, undefined, OURS);
        }
        if (request.commandField === N_SET_RQ) conversation.respond(request, 0x0000);
      },
    });
    await expect(
      nCreate(target(peer), { sopClassUid: MPPS, sopInstanceUid: OURS, dataSet }),
    ).resolves.toMatchObject({ status: 'success', sopInstanceUid: OURS });
    await expect(
      nSet(target(peer), { sopClassUid: MPPS, sopInstanceUid: OURS, modifications: dataSet }),
    ).resolves.toMatchObject({ status: 'success', sopInstanceUid: OURS });
  });
});
