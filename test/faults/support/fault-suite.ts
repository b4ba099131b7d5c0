import { startPeers, type PeerEndpoints } from '@pacslink/testing';
import { CaseKit } from './case-kit';
import { FaultStack, type FaultStackOptions } from './fault-stack';
import { figuresTable, recordFigure, rowsRecorded } from './figures';

export interface FaultSuite {
  readonly stack: FaultStack;
  readonly peers: PeerEndpoints;
  /** A kit for one case; `close()` it in the case's `finally`. */
  kit(): CaseKit;
}

/** Six replicas and the suite's links may take a while to boot on a busy two-core machine. */
const START_TIMEOUT_MS = 300_000;
/** A case waits out its fault (two minutes at most) and then up to a few minutes for the recovery. */
const CASE_TIMEOUT_MS = 600_000;

/**
 * Registers the suite file's stack: started before its first case (peers, database, vhost, links,
 * two replicas of each service, transfers allowed), stopped after its last, and the figures of the
 * run so far printed (the last suite file to end prints the whole table).
 */
export function faultSuite(options: FaultStackOptions): FaultSuite {
  // jest takes testTimeout from the root config only, not per project.
  jest.setTimeout(CASE_TIMEOUT_MS);
  let stack: FaultStack | undefined;
  let peers: PeerEndpoints | undefined;
  let kit: CaseKit | undefined;
  let rowsBefore = 0;
  beforeAll(async () => {
    peers = await startPeers();
    stack = await FaultStack.start(options);
    await stack.api.allowTransfer();
  }, START_TIMEOUT_MS);
  beforeEach(() => {
    kit = undefined;
    rowsBefore = rowsRecorded();
  });
  // A case that threw before its end state was measured still gets its row in the figures.
  afterEach(async () => {
    if (rowsRecorded() > rowsBefore) return;
    await recordFigure({
      case: expect.getState().currentTestName ?? 'a case',
      started: kit?.started.length ?? 0,
      completed: 0,
      failed: {},
      lost: 0,
      duplicatedTerminalEvents: 0,
      doubleSentBatches: 0,
      problems: ["the case stopped before its end state was measured (see the test's failure)"],
    });
  });
  afterAll(async () => {
    await stack?.stop();
    process.stdout.write(`\n${await figuresTable()}\n`);
  }, START_TIMEOUT_MS);
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`the fault suite's ${what} did not start (see beforeAll's error)`);
    return value;
  };
  return {
    get stack() {
      return started(stack, 'stack');
    },
    get peers() {
      return started(peers, 'peers');
    },
    kit: () => (kit = new CaseKit(started(stack, 'stack'), started(peers, 'peers'))),
  };
}
