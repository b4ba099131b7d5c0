import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStudy, testEgressGuard } from '@pacslink/testing';
import {
  DimseError,
  DimseErrorCode,
  isTransientDimseError,
  store,
  type DimseConnectionOptions,
  type StoreInstance,
  type StoreOutcome,
} from '../src';
import { startScriptedScp, type ScpLog, type ScriptedScpScript } from './support/scripted-scp';
import { storeInstanceOf } from './support/store-fixtures';

// C-STORE against the PS3.8 peer scripted in the test, for what no packaged SCP does on demand:
// an A-ABORT or silence half-way through, a peer that never closes or never answers the release.
jest.setTimeout(60_000);

let workDir: string;
let instances: StoreInstance[];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pacslink-dimse-store-scripted-'));
  const study = await generateStudy(workDir, { series: 1, instancesPerSeries: 4 });
  instances = study.series.flatMap((series) => series.instances.map((instance) => storeInstanceOf(instance)));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await rm(workDir, { recursive: true, force: true });
});

async function scripted(script: ScriptedScpScript): Promise<DimseConnectionOptions & { log: ScpLog }> {
  const scp = await startScriptedScp(script);
  cleanups.push(() => scp.close());
  return {
    log: scp.log,
    host: '127.0.0.1',
    port: scp.port,
    callingAeTitle: 'PACSLINK',
    calledAeTitle: scp.aeTitle,
    connectTimeoutMs: 2_000,
    associationTimeoutMs: 2_000,
    pduTimeoutMs: 1_000,
    egress: testEgressGuard(),
  };
}

async function storeError(promise: Promise<unknown>): Promise<DimseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError, got ${String(error)}`);
  return error;
}

it('an A-ABORT half-way rejects with ASSOCIATION_ABORTED; the outcomes before it stay valid', async () => {
  let count = 0;
  const options = await scripted({
    onCommand: (command, conversation) => {
      count++;
      if (count === 3) conversation.abort(2, 0);
      else conversation.respond(command, count === 2 ? 0xb000 : 0x0000);
    },
  });
  const seen: StoreOutcome[] = [];
  const error = await storeError(store(options, instances, { onOutcome: (outcome) => seen.push(outcome) }));
  expect(error.code).toBe(DimseErrorCode.ASSOCIATION_ABORTED);
  expect(error.message).toBe(
    'association aborted by the peer (service provider: reason not specified) during the response',
  );
  expect(isTransientDimseError(error)).toBe(true);
  expect(seen).toEqual([
    { sopInstanceUid: instances[0]?.sopInstanceUid, status: 'success', statusCode: 0 },
    {
      sopInstanceUid: instances[1]?.sopInstanceUid,
      status: 'warning',
      statusCode: 0xb000,
      reason: '0xB000 (warning: coercion of data elements)',
    },
  ]);
});

it("a failure status's ErrorComment is the PACS's words: quoted, on one line, at most 256 characters", async () => {
  // LO is 64 characters (PS3.5 6.2); a PACS may send a whole log line, with the patient's name.
  const comment = `cannot store for DOE^JOHN\r\n${'x'.repeat(2_000)}`;
  const options = await scripted({
    onCommand: (command, conversation) => conversation.respond(command, 0xa700, undefined, comment),
  });
  const [first] = await store(options, instances.slice(0, 1));
  expect(first).toEqual({
    sopInstanceUid: instances[0]?.sopInstanceUid,
    status: 'failure',
    statusCode: 0xa700,
    reason: `0xA700 (refused: out of resources): “cannot store for DOE^JOHN ${'x'.repeat(256 - 26)}…”`,
  });
});

it('a peer that stops answering: TIMEOUT in the response phase, transient, after an A-ABORT', async () => {
  const scp = await startScriptedScp({ onCommand: () => undefined });
  cleanups.push(() => scp.close());
  const error = await storeError(
    store(
      {
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'PACSLINK',
        calledAeTitle: scp.aeTitle,
        connectTimeoutMs: 2_000,
        associationTimeoutMs: 2_000,
        pduTimeoutMs: 300,
        egress: testEgressGuard(),
      },
      instances,
    ),
  );
  expect(error.code).toBe(DimseErrorCode.TIMEOUT);
  expect(error.details.phase).toBe('response');
  expect(isTransientDimseError(error)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(scp.log.abortsReceived).toBe(1);
});

it('a peer that trickles its response in small PDUs, never silent for a whole timeout: TIMEOUT all the same', async () => {
  const options = await scripted({
    onCommand: (command, conversation) => conversation.trickleResponse(command, 0, 300),
  });
  const started = performance.now();
  const error = await storeError(store(options, instances));
  expect(error.code).toBe(DimseErrorCode.TIMEOUT);
  expect(error.message).toBe(
    'no answer within 1000 ms (response): the PACS accepted the association but did not answer the C-STORE request',
  );
  // The response's whole wait is bounded, not each of its PDUs (its 50-odd bytes take 8 s or more).
  expect(performance.now() - started).toBeLessThan(3_000);
});

it('closes the connection itself once the release is answered (trap 11)', async () => {
  const options = await scripted({
    onCommand: (command, conversation) => conversation.respond(command, 0),
    closeAfterRelease: false,
  });
  const started = performance.now();
  const outcomes = await store({ ...options, pduTimeoutMs: 10_000 }, instances);
  expect(outcomes.every((outcome) => outcome.status === 'success')).toBe(true);
  expect(performance.now() - started).toBeLessThan(2_000);
});

it('a peer that never answers the release: the outcomes stand, with a warning', async () => {
  const warnings: Array<Record<string, unknown>> = [];
  const options = await scripted({
    onCommand: (command, conversation) => conversation.respond(command, 0),
    answerRelease: false,
  });
  const outcomes = await store(
    { ...options, logger: { debug: () => undefined, warn: (entry) => warnings.push(entry) } },
    instances,
  );
  expect(outcomes.every((outcome) => outcome.status === 'success')).toBe(true);
  expect(warnings).toEqual([expect.objectContaining({ failure: 'timeout', calledAeTitle: 'SCRIPTED' })]);
});

it('a context the peer rejects is a failure outcome per instance, and nothing is sent for it', async () => {
  const options = await scripted({
    contextResult: () => 3,
    onCommand: (command, conversation) => conversation.respond(command, 0),
  });
  const outcomes = await store(options, instances.slice(0, 2));
  expect(options.log.commands).toEqual([]);
  expect(options.log.pdus).toEqual([0x01, 0x05]);
  expect(outcomes).toEqual(
    instances.slice(0, 2).map((instance) => ({
      sopInstanceUid: instance.sopInstanceUid,
      status: 'failure',
      reason:
        'the PACS accepted no presentation context for CT Image Storage in Explicit VR Little Endian (abstract syntax not supported)',
    })),
  );
});

it("an onOutcome that throws: the caller's error comes back as it was, and the association is aborted", async () => {
  const options = await scripted({ onCommand: (command, conversation) => conversation.respond(command, 0) });
  const boom = new Error('progress reporter failed');
  await expect(
    store(options, instances, {
      onOutcome: () => {
        throw boom;
      },
    }),
  ).rejects.toBe(boom);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(options.log.abortsReceived).toBe(1);
  expect(options.log.commands).toHaveLength(1);
});
