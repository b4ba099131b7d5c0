import { Socket, type TcpNetConnectOpts } from 'node:net';
import { DimseError, DimseErrorCode, echo, find, type DimseConnectionOptions } from '../src';
import { testEgressGuard } from '@pacslink/testing';
import {
  implicitIdentifier,
  startScriptedScp,
  type ScriptedScp,
  type ScriptedScpScript,
} from './support/scripted-scp';

// The traps of dcmjs-dimse (libs/dimse/README.md), which C-ECHO and C-FIND ran on until
// issue 11, and what no packaged peer shows on demand, against a scripted DICOM UL peer written from
// PS3.8 (test/support/scripted-scp.ts): our own upper layer must not have them.
jest.setTimeout(30_000);

const C_ECHO_RQ = 0x0030;
const C_FIND_RQ = 0x0020;
const C_CANCEL_RQ = 0x0fff;
const A_RELEASE_RQ = 0x05;
const A_RELEASE_RP = 0x06;
const A_ABORT = 0x07;

const scps: ScriptedScp[] = [];
afterEach(async () => {
  for (const scp of scps.splice(0)) await scp.close();
});

async function scripted(script: ScriptedScpScript): Promise<ScriptedScp> {
  const scp = await startScriptedScp(script);
  scps.push(scp);
  return scp;
}

function options(scp: ScriptedScp, overrides: Partial<DimseConnectionOptions> = {}): DimseConnectionOptions {
  return {
    host: '127.0.0.1',
    port: scp.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: scp.aeTitle,
    connectTimeoutMs: 3_000,
    associationTimeoutMs: 3_000,
    pduTimeoutMs: 3_000,
    egress: testEgressGuard(),
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

const match = (patientName: string, studyInstanceUid: string): Buffer =>
  implicitIdentifier([
    [0x0008, 0x0052, Buffer.from('STUDY')],
    [0x0010, 0x0010, Buffer.from(patientName)],
    [0x0020, 0x000d, Buffer.from(studyInstanceUid)],
  ]);

it('trap 3/12: collects every match although each is pending 0xFF01, until the final status', async () => {
  const scp = await scripted({
    onCommand: (command, peer) => {
      if (command.commandField !== C_FIND_RQ) return;
      peer.respond(command, 0xff01, match('First^Patient', '1.2.3.1'));
      peer.respond(command, 0xff01, match('Second^Patient', '1.2.3.2'));
      // the last match comes a little later, as from a PACS still searching
      setTimeout(() => {
        peer.respond(command, 0xff00, match('Third^Patient', '1.2.3.3'));
        peer.respond(command, 0x0000);
      }, 200);
    },
  });

  const results = await find(options(scp), { level: 'STUDY', keys: {}, returnKeys: ['PatientName'] });

  expect(results.map((result) => result['0020000D'].Value)).toEqual([['1.2.3.1'], ['1.2.3.2'], ['1.2.3.3']]);
  expect(results[0]['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'First^Patient' }] });
  // the query went out Implicit VR (the first proposed syntax, accepted as Odil does) and the answer was read so
  expect(scp.log.commands.map((command) => command.commandField)).toEqual([C_FIND_RQ]);
});

it('trap 11: a peer that keeps the connection open after A-RELEASE-RP costs nothing', async () => {
  const scp = await scripted({
    closeAfterRelease: false,
    onCommand: (command, peer) => peer.respond(command, 0x0000),
  });
  const pduTimeoutMs = 10_000;
  const started = Date.now();
  const result = await echo(options(scp, { pduTimeoutMs }));
  expect(result.ok).toBe(true);
  // without the fix this takes the whole pduTimeoutMs
  expect(Date.now() - started).toBeLessThan(3_000);
});

it('a C-ECHO failure status is an error that names the status', async () => {
  const scp = await scripted({ onCommand: (command, peer) => peer.respond(command, 0x0110) });
  const error = await failure(echo(options(scp)));
  expect(error.code).toBe(DimseErrorCode.STATUS_FAILURE);
  expect(error.message).toBe('C-ECHO answered status 0x0110 (processing failure)');
  expect(error.details.status).toBe(0x0110);
});

it('a C-FIND failure status is an error, matches received before it are not returned', async () => {
  const scp = await scripted({
    onCommand: (command, peer) => {
      peer.respond(command, 0xff00, match('Some^One', '1.2.3.4'));
      peer.respond(command, 0xa700);
    },
  });
  const error = await failure(find(options(scp), { level: 'STUDY', keys: {}, returnKeys: [] }));
  expect(error.code).toBe(DimseErrorCode.STATUS_FAILURE);
  expect(error.message).toBe('C-FIND answered status 0xA700 (refused: out of resources)');
});

it('no answer to the request: TIMEOUT (response) within the bound, and the association is aborted', async () => {
  const scp = await scripted({});
  const pduTimeoutMs = 1_000;
  const started = Date.now();
  const error = await failure(echo(options(scp, { pduTimeoutMs })));
  const elapsed = Date.now() - started;
  expect(error.code).toBe(DimseErrorCode.TIMEOUT);
  expect(error.message).toBe(
    'no answer within 1000 ms (response): the PACS accepted the association but did not answer the C-ECHO request',
  );
  expect(elapsed).toBeLessThan(pduTimeoutMs + 1_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(scp.log.pdus).toContain(A_ABORT);
});

it('A-ABORT instead of an association answer: ASSOCIATION_ABORTED with source and reason', async () => {
  const scp = await scripted({ associate: { abort: [2, 2] } });
  const error = await failure(echo(options(scp)));
  expect(error.code).toBe(DimseErrorCode.ASSOCIATION_ABORTED);
  expect(error.message).toBe(
    'association aborted by the peer (service provider: unexpected PDU) during the association',
  );
  expect(error.details.abort).toEqual({ source: 2, reason: 2 });
});

it('the connection closed without an answer: CONNECTION_LOST', async () => {
  const scp = await scripted({ associate: 'close' });
  const error = await failure(echo(options(scp)));
  expect(error.code).toBe(DimseErrorCode.CONNECTION_LOST);
  expect(error.message).toContain('closed the connection without answering the association request');
});

it('a rejected presentation context is an error, not a silent success (trap 4)', async () => {
  const scp = await scripted({
    contextResult: () => 3,
    onCommand: (command, peer) => peer.respond(command, 0),
  });
  const error = await failure(find(options(scp), { level: 'STUDY', keys: {}, returnKeys: [] }));
  expect(error.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
  expect(scp.log.commands).toHaveLength(0);
});

it('limit: C-CANCEL after enough matches, later ones dropped, the final Cancel status is a success', async () => {
  let timer: NodeJS.Timeout | undefined;
  const scp = await scripted({
    onCommand: (command, peer) => {
      if (command.commandField === C_CANCEL_RQ) {
        clearInterval(timer);
        peer.respond(
          { ...command, commandField: C_FIND_RQ, messageId: command.messageIdBeingRespondedTo ?? 0 },
          0xfe00,
        );
        return;
      }
      let n = 0;
      timer = setInterval(() => {
        n++;
        peer.respond(command, 0xff00, match(`Patient^${n}`, `1.2.3.${n}`));
        if (n === 50) {
          clearInterval(timer);
          peer.respond(command, 0x0000);
        }
      }, 20);
    },
  });
  const results = await find(options(scp), { level: 'STUDY', keys: {}, returnKeys: [], limit: 2 });
  clearInterval(timer);
  expect(results).toHaveLength(2);
  expect(scp.log.commands.map((command) => command.commandField)).toEqual([C_FIND_RQ, C_CANCEL_RQ]);
});

it('a peer that never answers A-RELEASE-RQ: the exchange still succeeds after the release bound', async () => {
  const scp = await scripted({
    answerRelease: false,
    onCommand: (command, peer) => peer.respond(command, 0),
  });
  const warnings: Array<Record<string, unknown>> = [];
  const started = Date.now();
  const result = await echo(
    options(scp, {
      pduTimeoutMs: 800,
      logger: { debug: () => undefined, warn: (entry) => warnings.push(entry) },
    }),
  );
  expect(result.ok).toBe(true);
  expect(Date.now() - started).toBeLessThan(800 + 2_000);
  expect(warnings.map((entry) => entry.msg)).toContain(
    'the peer did not answer the A-RELEASE-RQ with an A-RELEASE-RP; closing the connection',
  );
});

it('sends C-ECHO-RQ on the Verification context', async () => {
  const scp = await scripted({ onCommand: (command, peer) => peer.respond(command, 0) });
  await echo(options(scp));
  expect(scp.log.commands).toEqual([
    expect.objectContaining({ commandField: C_ECHO_RQ, affectedSopClassUid: '1.2.840.10008.1.1' }),
  ]);
});

it('the caller aborting a C-FIND: C-CANCEL, the final response awaited, released, CANCELLED', async () => {
  let timer: NodeJS.Timeout | undefined;
  const scp = await scripted({
    onCommand: (command, peer) => {
      if (command.commandField === C_CANCEL_RQ) {
        clearInterval(timer);
        peer.respond(
          { ...command, commandField: C_FIND_RQ, messageId: command.messageIdBeingRespondedTo ?? 0 },
          0xfe00,
        );
        return;
      }
      let n = 0;
      timer = setInterval(() => {
        n++;
        peer.respond(command, 0xff00, match(`Patient^${n}`, `1.2.3.${n}`));
      }, 20);
    },
  });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const error = await failure(
    find(options(scp), { level: 'STUDY', keys: {}, returnKeys: [], signal: controller.signal }),
  );
  clearInterval(timer);
  expect(error.code).toBe(DimseErrorCode.CANCELLED);
  expect(error.message).toMatch(
    /^C-FIND cancelled: stopped after \d+ matches; the association was released$/,
  );
  expect(scp.log.commands.map((command) => command.commandField)).toEqual([C_FIND_RQ, C_CANCEL_RQ]);
  expect(scp.log.pdus).toContain(A_RELEASE_RQ);
  expect(scp.log.pdus).not.toContain(A_ABORT);
});

it('a peer that ignores C-CANCEL: the matches wanted come back after one PDU timeout, the association aborted', async () => {
  let timer: NodeJS.Timeout | undefined;
  const scp = await scripted({
    onCommand: (command, peer) => {
      if (command.commandField === C_CANCEL_RQ) return;
      let n = 0;
      timer = setInterval(() => {
        n++;
        peer.respond(command, 0xff00, match(`Patient^${n}`, `1.2.3.${n}`));
      }, 20);
    },
  });
  const pduTimeoutMs = 600;
  const started = Date.now();
  const results = await find(options(scp, { pduTimeoutMs }), {
    level: 'STUDY',
    keys: {},
    returnKeys: [],
    limit: 3,
  });
  clearInterval(timer);
  expect(results).toHaveLength(3);
  expect(Date.now() - started).toBeLessThan(pduTimeoutMs + 1_500);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(scp.log.pdus).toContain(A_ABORT);
});

it('each C-FIND response is decoded by its own Specific Character Set (trap 14)', async () => {
  const scp = await scripted({
    onCommand: (command, peer) => {
      peer.respond(
        command,
        0xff00,
        implicitIdentifier([
          [0x0008, 0x0005, Buffer.from('ISO_IR 144')],
          [0x0008, 0x0052, Buffer.from('STUDY')],
          [0x0010, 0x0010, Buffer.from([0xb8, 0xd2, 0xd0, 0xdd, 0xde, 0xd2, 0x5e, 0xb8, 0xd2, 0xd0, 0xdd])],
          [0x0020, 0x000d, Buffer.from('1.2.3.1')],
        ]),
      );
      peer.respond(
        command,
        0xff01,
        implicitIdentifier([
          [0x0008, 0x0005, Buffer.from('ISO_IR 100')],
          [0x0008, 0x0052, Buffer.from('STUDY')],
          [
            0x0010,
            0x0010,
            Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x5e, 0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e]),
          ],
          [0x0020, 0x000d, Buffer.from('1.2.3.2')],
        ]),
      );
      peer.respond(
        command,
        0xff00,
        implicitIdentifier([
          [0x0008, 0x0052, Buffer.from('STUDY')],
          [0x0010, 0x0010, Buffer.from([0xc9, 0xe9, 0x5e, 0xc1])],
          [0x0020, 0x000d, Buffer.from('1.2.3.3')],
        ]),
      );
      peer.respond(command, 0x0000);
    },
  });
  const results = await find(options(scp), {
    level: 'STUDY',
    keys: {},
    returnKeys: ['PatientName'],
    fallbackCharset: 'ISO_IR 101',
  });
  expect(results.map((result) => result['00100010'].Value)).toEqual([
    [{ Alphabetic: 'Иванов^Иван' }],
    [{ Alphabetic: 'Müller^Jürgen' }],
    [{ Alphabetic: 'Éé^Á' }],
  ]);
});

it('a C-FIND match whose identifier comes in several PDVs and PDUs is read whole', async () => {
  const longName = `${'Long'.repeat(40)}^Name`;
  const scp = await scripted({
    onCommand: (command, peer) => {
      peer.respondInPieces(command, 0xff00, match(longName, '1.2.3.9'), 7);
      peer.respond(command, 0xff00, match('Short^Name', '1.2.3.10'));
      peer.respond(command, 0x0000);
    },
  });
  const results = await find(options(scp), { level: 'STUDY', keys: {}, returnKeys: ['PatientName'] });
  expect(results.map((result) => result['00100010']?.Value)).toEqual([
    [{ Alphabetic: longName }],
    [{ Alphabetic: 'Short^Name' }],
  ]);
});

it('trap 1: every connection C-ECHO and C-FIND open has TCP_NODELAY (Nagle off)', async () => {
  const scp = await scripted({ onCommand: (command, peer) => peer.respond(command, 0) });
  // net.connect hands Socket#connect its normalized arguments: [options, callback]
  const connects = jest.spyOn(Socket.prototype, 'connect');
  try {
    await echo(options(scp));
    await find(options(scp), { level: 'STUDY', keys: {}, returnKeys: [] });
    const noDelay = connects.mock.calls.map((call) => {
      const [first] = call as unknown[];
      return ((Array.isArray(first) ? first[0] : first) as TcpNetConnectOpts).noDelay;
    });
    expect(noDelay).toEqual([true, true]);
  } finally {
    connects.mockRestore();
  }
});

it('a peer that requests the release before the final C-FIND response: NO_RESPONSE, its A-RELEASE-RQ answered', async () => {
  const scp = await scripted({
    onCommand: (command, peer) => {
      peer.respond(command, 0xff00, match('Some^One', '1.2.3.4'));
      peer.socket.write(Buffer.from([A_RELEASE_RQ, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    },
  });
  const error = await failure(find(options(scp), { level: 'STUDY', keys: {}, returnKeys: [] }));
  expect(error.code).toBe(DimseErrorCode.NO_RESPONSE);
  expect(error.message).toBe('the PACS ended the association without a final C-FIND response');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(scp.log.pdus).toContain(A_RELEASE_RP);
  expect(scp.log.pdus).not.toContain(A_ABORT);
});

it('a release collision (the peer answers our A-RELEASE-RQ with its own): answered, no abort, no warning', async () => {
  const scp = await scripted({
    answerRelease: 'collide',
    onCommand: (command, peer) => peer.respond(command, 0),
  });
  const warnings: Array<Record<string, unknown>> = [];
  const pduTimeoutMs = 5_000;
  const started = Date.now();
  const result = await echo(
    options(scp, { pduTimeoutMs, logger: { debug: () => undefined, warn: (entry) => warnings.push(entry) } }),
  );
  expect(result.ok).toBe(true);
  expect(Date.now() - started).toBeLessThan(pduTimeoutMs);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(scp.log.pdus).toEqual(expect.arrayContaining([A_RELEASE_RQ, A_RELEASE_RP]));
  expect(scp.log.pdus).not.toContain(A_ABORT);
  expect(warnings).toEqual([]);
});
