import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { part10Stream } from '@pacslink/dicom';
import { InvalidDicomError, StudyStore } from '@pacslink/store';
import { StorageScp, type IncomingInstance, type StoreResult } from '../src/scp/storage-scp';
import { IMPLEMENTATION_CLASS_UID, encodeReleaseRq } from '../src/upper-layer/pdu';
import {
  EXPLICIT_VR_LE,
  IMPLICIT_VR_LE,
  RawPeer,
  cStorePdus,
  responsesIn,
  splitPdus,
} from './support/raw-requestor';
import {
  Dice,
  FUZZ_CALLED_AE,
  FUZZ_CALLING_AE,
  FUZZ_MAX_PDU,
  drawCases,
  identity,
  validDataSet,
  type FuzzCase,
} from './support/scp-fuzz-cases';

// The Storage SCP against hostile input: malformed and truncated PDUs, command sets and data sets,
// drawn from a seeded PRNG (FUZZ_SEED=<n> replays a run; the seed is printed). Each case must end
// in bounded time with an A-ABORT, an A-ASSOCIATE-RJ, a failure C-STORE-RSP or a closed connection
// (or, for the valid controls, a stored file), keep nothing of a data set that did not end well,
// and leave the SCP serving: the process, its heap and its per-peer bookkeeping intact.
jest.setTimeout(120_000);

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const CASES = 600;
const CONCURRENCY = 8;
const AE = FUZZ_CALLED_AE;
const CALLER = FUZZ_CALLING_AE;
const MAX_PDU = FUZZ_MAX_PDU;
const ARTIM_MS = 300;
const IDLE_MS = 500;
/** Every case's connection must be closed within this (the SCP's longest timer plus slack). */
const CASE_DEADLINE_MS = IDLE_MS + ARTIM_MS + 2_000;
const PER_CALLER = 12;
/** identifyCaller answers after this long, as config-service's RPC does: a window to hang up in. */
const IDENTIFY_DELAY_MS = 15;

/** PS3.4 Table B.2-1 / C.4: the failure statuses a refused C-STORE may carry. */
function isFailureStatus(status: number): boolean {
  return (
    status === 0x0110 || status === 0x0122 || (status & 0xf000) === 0xa000 || (status & 0xf000) === 0xc000
  );
}

// ---------------------------------------------------------------------------- running a case

interface CaseOutcome {
  fuzzCase: FuzzCase;
  closed: boolean;
  pduTypes: number[];
  statuses: number[];
  problem?: string;
}

async function runCase(port: number, fuzzCase: FuzzCase): Promise<CaseOutcome> {
  const peer = await RawPeer.open(port);
  for (const write of fuzzCase.writes) {
    if (peer.isClosed) break;
    peer.socket.write(write);
  }
  // end(), not destroy(): what was written still goes out before the FIN.
  if (fuzzCase.then === 'hang-up') peer.socket.end();
  const closed = await peer.closedWithin(CASE_DEADLINE_MS);
  if (!closed) peer.socket.destroy();
  const outcome: CaseOutcome = { fuzzCase, closed, pduTypes: [], statuses: [] };
  try {
    const pdus = splitPdus(peer.bytes());
    outcome.pduTypes = pdus.map((pdu) => pdu.type);
    outcome.statuses = responsesIn(pdus).map((response) => response.status ?? -1);
  } catch (error) {
    outcome.problem = `the SCP sent bytes that are not whole PDUs: ${(error as Error).message}`;
  }
  return outcome;
}

/** What is wrong with one case's answer, by the rules in the header comment; undefined: nothing. */
function verdict(outcome: CaseOutcome): string | undefined {
  const { fuzzCase, pduTypes, statuses } = outcome;
  if (outcome.problem !== undefined) return outcome.problem;
  if (!outcome.closed) return `still open after ${CASE_DEADLINE_MS} ms`;
  const unknown = pduTypes.filter((type) => ![0x02, 0x03, 0x04, 0x06, 0x07].includes(type));
  if (unknown.length > 0) return `the SCP sent PDU types ${unknown.join(', ')}`;
  const successes = statuses.filter((status) => status === 0x0000);
  const others = statuses.filter((status) => status !== 0x0000 && !isFailureStatus(status));
  if (others.length > 0)
    return `statuses neither success nor failure: ${others.map((s) => s.toString(16)).join(', ')}`;
  if (fuzzCase.expect === 'refused' && successes.length > 0) return 'a success status for a refused case';
  if (fuzzCase.expect === 'stored' && (successes.length !== 1 || pduTypes.at(-1) !== 0x06)) {
    return `not stored and released: PDUs ${pduTypes.join(',')}, statuses ${statuses.map((s) => s.toString(16)).join(',')}`;
  }
  return undefined;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** A Part 10 file's data set: what follows its meta header ((0002,0000) gives the group's length). */
function dataSetOf(file: Buffer): Buffer {
  return file.subarray(144 + file.readUInt32LE(140));
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('Storage SCP under fuzzed PDUs, command sets and data sets', () => {
  let workDir: string;
  let studyStore: StudyStore;
  let scp: StorageScp;
  let port: number;
  const writes = new Set<Promise<StoreResult>>();
  /** Affected SOP Instance UID → the path the store answered for it */
  const storedPaths = new Map<string, string>();
  const processFaults: string[] = [];
  const onFault = (error: unknown): void => {
    processFaults.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  };

  async function store(
    instance: IncomingInstance,
    callingAeTitle: string,
    dataSet: Readable,
  ): Promise<StoreResult> {
    // As dimse-worker's Storage SCP does: the data set behind its meta header, into the study store.
    try {
      const written = await studyStore.write(
        part10Stream(
          { ...instance, implementationClassUid: IMPLEMENTATION_CLASS_UID, sourceAeTitle: callingAeTitle },
          dataSet,
        ),
      );
      storedPaths.set(instance.sopInstanceUid, written.path);
      return { status: 0x0000 };
    } catch (error) {
      dataSet.resume();
      const reason = error instanceof Error ? error.message : String(error);
      return error instanceof InvalidDicomError
        ? { status: 0xc000, errorComment: reason }
        : { status: 0xa700, errorComment: reason };
    }
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onFault);
    process.on('uncaughtException', onFault);
    workDir = await mkdtemp(join(tmpdir(), 'pacslink-scp-fuzz-'));
    studyStore = new StudyStore(join(workDir, 'store'));
    scp = new StorageScp({
      aeTitle: AE,
      port: 0,
      host: '127.0.0.1',
      maxAssociations: 64,
      maxAssociationsPerCaller: PER_CALLER,
      artimTimeoutMs: ARTIM_MS,
      idleTimeoutMs: IDLE_MS,
      maxPduLength: MAX_PDU,
      storageTransferSyntaxes: [EXPLICIT_VR_LE, IMPLICIT_VR_LE],
      identifyCaller: (aeTitle) =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve(aeTitle === CALLER ? { id: 'fuzzer', aeTitle } : undefined),
            IDENTIFY_DELAY_MS,
          ),
        ),
      store: (association, instance, dataSet) => {
        const writing = store(instance, association.callingAeTitle, dataSet);
        writes.add(writing);
        return writing.finally(() => writes.delete(writing));
      },
    });
    port = (await scp.listen()).port;
  });

  afterAll(async () => {
    await scp.close(0);
    process.removeListener('unhandledRejection', onFault);
    process.removeListener('uncaughtException', onFault);
    await rm(workDir, { recursive: true, force: true });
  });

  it(`answers ${CASES} hostile cases in bounded time, keeps nothing half-written, and serves on`, async () => {
    // The seed is what replays a failing run.
    console.info(`Storage SCP fuzz: FUZZ_SEED=${SEED}, ${CASES} cases`);
    const cases = drawCases(SEED, CASES);
    collectGarbage();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const started = Date.now();
    const outcomes: CaseOutcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let index = next++; index < cases.length; index = next++)
          outcomes.push(await runCase(port, cases[index]));
      }),
    );
    await Promise.allSettled([...writes]);
    clearInterval(sampler);
    const elapsedMs = Date.now() - started;
    collectGarbage();
    const after = process.memoryUsage();

    const failures = outcomes
      .map((outcome) => ({ outcome, wrong: verdict(outcome) }))
      .filter(({ wrong }) => wrong !== undefined)
      .map(({ outcome, wrong }) => `#${outcome.fuzzCase.index} ${outcome.fuzzCase.family}: ${wrong}`);
    expect(failures).toEqual([]);
    expect(processFaults).toEqual([]);

    // Only what was answered 0x0000 is in the store, byte for byte; nothing waits in tmp/.
    const files = await filesUnder(join(studyStore.rootDir, 'studies'));
    expect(files.map((file) => file.slice(studyStore.rootDir.length + 1)).sort()).toEqual(
      [...storedPaths.values()].sort(),
    );
    expect(await filesUnder(join(studyStore.rootDir, 'tmp'))).toEqual([]);
    const storedUids = new Set(files.map((file) => basename(file, '.dcm')));
    for (const outcome of outcomes) {
      const { fuzzCase } = outcome;
      if (fuzzCase.sopInstanceUid === undefined) continue;
      const stored = storedPaths.get(fuzzCase.sopInstanceUid);
      if (fuzzCase.expect === 'refused')
        expect({ case: fuzzCase.index, stored }).toEqual({ case: fuzzCase.index, stored: undefined });
      if (stored !== undefined && fuzzCase.dataSet !== undefined && storedUids.has(fuzzCase.sopInstanceUid)) {
        const file = await readFile(join(studyStore.rootDir, stored));
        expect({ case: fuzzCase.index, same: dataSetOf(file).equals(fuzzCase.dataSet) }).toEqual({
          case: fuzzCase.index,
          same: true,
        });
      }
    }
    const families = new Map<string, number>();
    for (const { fuzzCase } of outcomes)
      families.set(fuzzCase.family, (families.get(fuzzCase.family) ?? 0) + 1);
    console.info(
      `Storage SCP fuzz: ${CASES} cases in ${elapsedMs} ms, ${storedPaths.size} stored; heap after GC ${((after.heapUsed - before.heapUsed) / 1e6).toFixed(1)} MB more, RSS peak +${((peakRss - before.rss) / 1e6).toFixed(1)} MB; families ${JSON.stringify(Object.fromEntries(families))}`,
    );
    expect(elapsedMs).toBeLessThan(60_000);
    // What stays after every association ended: no per-association state kept (a few MB of noise).
    expect(after.heapUsed - before.heapUsed).toBeLessThan(16 * 1024 * 1024);
    expect(peakRss - before.rss).toBeLessThan(256 * 1024 * 1024);
  });

  it('still accepts a full set of associations from the peer, each storing an instance', async () => {
    // All PER_CALLER at once: an association counted for the peer and never released (a leak in the
    // per-peer bookkeeping) would refuse the last of them.
    const dice = new Dice(SEED + 1);
    // Built before the associations open: on a loaded machine, building them between the AC and
    // the C-STORE could outlast the SCP's short idle limit (IDLE_MS), which would abort a valid peer.
    const instances = Array.from({ length: PER_CALLER }, () => {
      const id = identity(dice);
      return {
        id,
        pdus: cStorePdus({
          sopInstanceUid: id.sopInstanceUid,
          dataSet: validDataSet(dice, id),
          maxPduLength: MAX_PDU,
        }),
      };
    });
    const peers = await Promise.all(instances.map(() => RawPeer.open(port)));
    const answers = await Promise.all(
      peers.map((peer) => peer.request({ callingAeTitle: CALLER, calledAeTitle: AE, maxPduLength: MAX_PDU })),
    );
    expect(answers.map((answer) => answer[0])).toEqual(peers.map(() => 0x02));
    await Promise.all(
      peers.map(async (peer, index) => {
        const { id, pdus } = instances[index];
        for (const pdu of pdus) peer.socket.write(pdu);
        await peer.waitFor((bytes) => bytes.length > 12);
        expect(responsesIn(peer.pdus()).map((response) => response.status)).toEqual([0x0000]);
        expect(storedPaths.has(id.sopInstanceUid)).toBe(true);
        peer.socket.write(encodeReleaseRq());
        await peer.closed;
      }),
    );
  });
});
