import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { testEgressGuard } from '@pacslink/testing';
import {
  DimseError,
  DimseErrorCode,
  get,
  type DimseConnectionOptions,
  type GetOptions,
  type SubOperationCounts,
} from '../src';
import {
  startScriptedScp,
  type DimseCommand,
  type ScriptedScp,
  type ScriptedScpScript,
} from './support/scripted-scp';

// C-GET against the scripted PS3.8 peer, for what no packaged PACS does on demand: a GET context
// refused inside an accepted association, an A-ABORT or silence inside a sub-operation's data set,
// counts that promise instances never sent, a sink that does not read, C-CANCEL.
jest.setTimeout(30_000);

const GET = '1.2.840.10008.5.1.4.1.2.2.3';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const C_GET_RQ = 0x0010;
const C_STORE_RSP = 0x8001;
const C_CANCEL_RQ = 0x0fff;
const MiB = 1024 * 1024;

let scp: ScriptedScp | undefined;

afterEach(async () => {
  await scp?.close();
  scp = undefined;
});

async function start(script: ScriptedScpScript): Promise<ScriptedScp> {
  scp = await startScriptedScp(script);
  return scp;
}

function target(peer: ScriptedScp, pduTimeoutMs = 5_000): DimseConnectionOptions {
  return {
    host: '127.0.0.1',
    port: peer.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: peer.aeTitle,
    connectTimeoutMs: 2_000,
    associationTimeoutMs: 2_000,
    pduTimeoutMs,
    egress: testEgressGuard(),
  };
}

const STUDY = { level: 'STUDY', studyInstanceUid: '1.2.3.4' } as const;

function options(sink: GetOptions['sink'], more: Partial<GetOptions> = {}): GetOptions {
  return { storageSopClasses: [CT], transferSyntaxes: [EXPLICIT], sink, ...more };
}

async function getError(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

/** Reads the whole data set; what the stream failed with, if it did. */
async function readAll(dataSet: Readable): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of dataSet as AsyncIterable<Buffer>) bytes += chunk.length;
    return { bytes };
  } catch (error) {
    return { bytes, error };
  }
}

describe('get against the scripted peer', () => {
  it('a GET context refused in an accepted association: PRESENTATION_CONTEXT_REJECTED, nothing sent, released', async () => {
    const peer = await start({ contextResult: (context) => (context.abstractSyntaxUid === GET ? 3 : 0) });
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(error.details).toMatchObject({ abstractSyntaxUid: GET, presentationContextResult: 3 });
    expect(error.message).toBe(
      'the PACS does not accept Study Root Query/Retrieve (C-GET) (presentation context rejected: abstract syntax not supported)',
    );
    expect(peer.log.pdus).toEqual([0x01, 0x05]);
  });

  it('every storage context refused: PRESENTATION_CONTEXT_REJECTED naming the storage class, nothing sent', async () => {
    const peer = await start({ contextResult: (context) => (context.abstractSyntaxUid === CT ? 4 : 0) });
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.PRESENTATION_CONTEXT_REJECTED);
    expect(error.details.abstractSyntaxUid).toBe(CT);
    expect(error.message).toMatch(/does not accept CT Image Storage .*transfer syntaxes not supported/);
    expect(peer.log.pdus).toEqual([0x01, 0x05]);
  });

  it('an association rejected: ASSOCIATION_REJECTED, with the reject triple', async () => {
    const peer = await start({ associate: { reject: [1, 1, 3] } });
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.ASSOCIATION_REJECTED);
    expect(error.details.reject).toEqual({ result: 1, source: 1, reason: 3 });
  });

  it('a storage context accepted in a transfer syntax we did not propose: PROTOCOL_ERROR, the sink never called', async () => {
    const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
    let getCommand: DimseCommand | undefined;
    const peer = await start({
      contextTransferSyntax: (context) =>
        context.abstractSyntaxUid === CT ? JPEG_BASELINE : context.transferSyntaxUids[0],
      onCommand: (command, conversation) => {
        if (command.commandField === C_GET_RQ) {
          getCommand = command;
          conversation.sendStore(CT, '1.2.3.4.5', 7, 1_000);
        }
        if (command.commandField === C_STORE_RSP && getCommand !== undefined) {
          conversation.respondWithCounts(getCommand, 0x0000, { completed: 1, failed: 0, warning: 0 });
        }
      },
    });
    const sunk: string[] = [];
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(async (instance, dataSet) => {
          sunk.push(instance.transferSyntaxUid);
          await readAll(dataSet);
          return { status: 0 };
        }),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
    expect(error.message).toContain(
      `the CT Image Storage context was accepted with JPEG Baseline, which was not proposed`,
    );
    expect(sunk).toEqual([]);
  });

  it('counts that say instances completed while none came: INSTANCES_NOT_RECEIVED', async () => {
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField === C_GET_RQ) {
          conversation.respondWithCounts(command, 0x0000, { completed: 3, failed: 0, warning: 0 });
        }
      },
    });
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.INSTANCES_NOT_RECEIVED);
    expect(error.message).toBe(
      'the PACS reported 3 C-GET sub-operations completed but sent 0 instances on this association',
    );
    expect(error.details.subOperations).toEqual({ completed: 3, failed: 0, warning: 0 });
  });

  it('an A-ABORT inside a sub-operation: the sink sees its data set fail with ASSOCIATION_ABORTED, and so does the call', async () => {
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField !== C_GET_RQ) return;
        conversation.sendStore(CT, '1.2.3.4.5', 7, 100_000, false);
        setTimeout(() => conversation.abort(0, 0), 200);
      },
    });
    const read: Array<{ bytes: number; error?: unknown }> = [];
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(async (_instance, dataSet) => {
          read.push(await readAll(dataSet));
          return { status: 0xa700 };
        }),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.ASSOCIATION_ABORTED);
    expect(read).toHaveLength(1);
    expect(read[0].bytes).toBe(100_000);
    expect(read[0].error).toBeInstanceOf(DimseError);
    expect((read[0].error as DimseError).code).toBe(DimseErrorCode.ASSOCIATION_ABORTED);
    // The sub-operation was never answered: the data set was not whole.
    expect(peer.log.commands.map((command) => command.commandField)).toEqual([C_GET_RQ]);
  });

  it('a peer silent inside a data set: TIMEOUT after pduTimeoutMs, the sink sees it, the association is aborted', async () => {
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField === C_GET_RQ) conversation.sendStore(CT, '1.2.3.4.5', 7, 50_000, false);
      },
    });
    const read: Array<{ bytes: number; error?: unknown }> = [];
    const started = Date.now();
    const error = await getError(
      get(
        target(peer, 500),
        STUDY,
        options(async (_instance, dataSet) => {
          read.push(await readAll(dataSet));
          return { status: 0xa700 };
        }),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.TIMEOUT);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((read[0]?.error as DimseError).code).toBe(DimseErrorCode.TIMEOUT);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.log.abortsReceived).toBe(1);
  });

  it('holds the peer back (TCP) while the sink does not read: memory stays at a few PDUs, not the data set', async () => {
    const dataBytes = 32 * MiB;
    let getCommand: DimseCommand | undefined;
    let peerBacklogAtSend = 0;
    let peerBacklogWhileHeld = 0;
    let peerSocket: Socket | undefined;
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField === C_GET_RQ) {
          getCommand = command;
          peerSocket = conversation.socket;
          peerBacklogAtSend = conversation.sendStore(CT, '1.2.3.4.5', 7, dataBytes);
        }
        if (command.commandField === C_STORE_RSP && getCommand !== undefined) {
          conversation.respondWithCounts(getCommand, 0x0000, { completed: 1, failed: 0, warning: 0 });
        }
      },
    });
    let queuedWhileHeld = Number.NaN;
    let received = 0;
    const result = await get(
      target(peer),
      STUDY,
      options(async (_instance, dataSet) => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        // Ours: what waits in the stream on either side; theirs: what their socket still holds.
        queuedWhileHeld = dataSet.readableLength + (dataSet as Duplex).writableLength;
        peerBacklogWhileHeld = peerSocket?.writableLength ?? 0;
        received = (await readAll(dataSet)).bytes;
        return { status: 0 };
      }),
    );
    expect(result).toMatchObject({ status: 'success', completed: 1, received: 1 });
    expect(received).toBe(dataBytes);
    expect(peer.log.commands.find((command) => command.commandField === C_STORE_RSP)?.status).toBe(0);
    expect(queuedWhileHeld).toBeLessThanOrEqual(MiB);
    // Everything the kernel did not take stays with the peer (loopback buffers hold a few MB).
    expect(peerBacklogAtSend).toBeGreaterThan(24 * MiB);
    expect(peerBacklogWhileHeld).toBeGreaterThan(16 * MiB);
  });

  it('the signal sends C-CANCEL: the final 0xFE00 with its counts is CANCELLED, after a release', async () => {
    const controller = new AbortController();
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField === C_GET_RQ) {
          conversation.respondWithCounts(command, 0xff00, {
            remaining: 5,
            completed: 0,
            failed: 0,
            warning: 0,
          });
        }
        if (command.commandField === C_CANCEL_RQ) {
          const cancelled = {
            ...command,
            commandField: C_GET_RQ,
            messageId: command.messageIdBeingRespondedTo ?? 0,
          };
          conversation.respondWithCounts(cancelled, 0xfe00, {
            remaining: 5,
            completed: 0,
            failed: 0,
            warning: 0,
          });
        }
      },
    });
    const progress: SubOperationCounts[] = [];
    const error = await getError(
      get(
        target(peer),
        STUDY,
        options(() => Promise.resolve({ status: 0 }), {
          signal: controller.signal,
          onProgress: (counts) => {
            progress.push(counts);
            controller.abort();
          },
        }),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.CANCELLED);
    expect(error.details.subOperations).toEqual({ remaining: 5, completed: 0, failed: 0, warning: 0 });
    expect(progress).toEqual([{ remaining: 5, completed: 0, failed: 0, warning: 0 }]);
    expect(peer.log.commands.map((command) => command.commandField)).toEqual([C_GET_RQ, C_CANCEL_RQ]);
    expect(peer.log.pdus.at(-1)).toBe(0x05);
  });

  it('a PACS that answers C-CANCEL by streaming one data set forever is aborted after pduTimeoutMs: CANCELLED', async () => {
    const controller = new AbortController();
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField === C_GET_RQ) conversation.sendEndlessStore(CT, '1.2.3.4.5', 7, 20);
      },
    });
    const read: Array<{ bytes: number; error?: unknown }> = [];
    const started = Date.now();
    const outcome = await Promise.race([
      getError(
        get(
          target(peer, 500),
          STUDY,
          options(
            async (_instance, dataSet) => {
              controller.abort();
              read.push(await readAll(dataSet));
              return { status: 0 };
            },
            { signal: controller.signal },
          ),
        ),
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still running after 5 s'), 5_000)),
    ]);
    expect(outcome).toBeInstanceOf(DimseError);
    const error = outcome as DimseError;
    expect(error.code).toBe(DimseErrorCode.CANCELLED);
    expect(error.message).toContain('the PACS ignored C-CANCEL and was aborted');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((read[0]?.error as DimseError).code).toBe(DimseErrorCode.CANCELLED);
    expect(peer.log.commands.map((command) => command.commandField)).toEqual([C_GET_RQ, C_CANCEL_RQ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.log.abortsReceived).toBe(1);
  });

  it('a PACS that answers C-CANCEL with pendings forever is aborted after pduTimeoutMs: CANCELLED', async () => {
    const controller = new AbortController();
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField !== C_GET_RQ) return;
        const timer = setInterval(() => {
          if (conversation.socket.destroyed) clearInterval(timer);
          else
            conversation.respondWithCounts(command, 0xff00, {
              remaining: 5,
              completed: 0,
              failed: 0,
              warning: 0,
            });
        }, 20);
      },
    });
    const started = Date.now();
    const error = await getError(
      get(
        target(peer, 500),
        STUDY,
        options(() => Promise.resolve({ status: 0 }), {
          signal: controller.signal,
          onProgress: () => controller.abort(),
        }),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.CANCELLED);
    expect(error.message).toContain('the PACS ignored C-CANCEL and was aborted');
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.log.abortsReceived).toBe(1);
  });

  it('a command set that never ends (no last fragment) is PROTOCOL_ERROR once past 16 MB, not kept until the timeout', async () => {
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField !== C_GET_RQ) return;
        // 24 MB of one command set's fragments, none marked last
        const fragment = Buffer.alloc(6 + 6 + 64 * 1024 - 12);
        fragment.writeUInt8(0x04, 0);
        fragment.writeUInt32BE(fragment.length - 6, 2);
        fragment.writeUInt32BE(fragment.length - 10, 6);
        fragment.writeUInt8(command.presentationContextId, 10);
        fragment.writeUInt8(0x01, 11);
        for (let sent = 0; sent < 24 * MiB; sent += fragment.length) conversation.socket.write(fragment);
      },
    });
    const started = Date.now();
    const error = await getError(
      get(
        target(peer, 10_000),
        STUDY,
        options(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
    expect(error.message).toContain('a command set longer than 16777216 bytes');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('data set fragments no command announced are PROTOCOL_ERROR at once, not kept until the timeout', async () => {
    const peer = await start({
      onCommand: (command, conversation) => {
        if (command.commandField !== C_GET_RQ) return;
        // 32 data sets of 1 MB each on the C-GET context, with no response announcing them
        const data = Buffer.alloc(64 * 1024 - 12);
        for (let piece = 0; piece < 32 * 16; piece++) {
          const fragment = Buffer.alloc(12);
          fragment.writeUInt8(0x04, 0);
          fragment.writeUInt32BE(6 + data.length, 2);
          fragment.writeUInt32BE(2 + data.length, 6);
          fragment.writeUInt8(command.presentationContextId, 10);
          fragment.writeUInt8(piece % 16 === 15 ? 0x02 : 0x00, 11);
          conversation.socket.write(Buffer.concat([fragment, data]));
        }
      },
    });
    const started = Date.now();
    const error = await getError(
      get(
        target(peer, 10_000),
        STUDY,
        options(() => Promise.resolve({ status: 0 })),
      ),
    );
    expect(error.code).toBe(DimseErrorCode.PROTOCOL_ERROR);
    expect(error.message).toContain('a data set fragment on context 1 that no command announced');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
