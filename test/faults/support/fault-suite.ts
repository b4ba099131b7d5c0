import { startPeers, type PeerEndpoints } from '@pacslink/testing';
import { CaseKit } from './case-kit';
import { FaultStack, type FaultStackOptions } from './fault-stack';
import { figuresTable } from './figures';

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
  beforeAll(async () => {
    peers = await startPeers();
    stack = await FaultStack.start(options);
    await stack.api.allowTransfer();
  }, START_TIMEOUT_MS);
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
    kit: () => new CaseKit(started(stack, 'stack'), started(peers, 'peers')),
  };
}
