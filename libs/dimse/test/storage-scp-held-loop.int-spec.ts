import type { StorageScp } from '../src/scp/storage-scp';
import { RawPeer, associateRq } from './support/raw-requestor';
import { listeningScp } from './support/test-scp';

// The acceptor's timers (ARTIM, the idle limit) judge a peer by what it sent, not by how late the
// event loop got round to reading it: a process held up longer than a timer runs the due timer
// before the poll phase reads bytes already in the socket (a CI run on a loaded machine saw a valid
// association aborted by ARTIM).

const ARTIM_MS = 50;
const A_ASSOCIATE_AC = 0x02;

let scp: StorageScp;
let port: number;

beforeEach(async () => {
  ({ scp, port } = await listeningScp({
    artimTimeoutMs: ARTIM_MS,
    idleTimeoutMs: ARTIM_MS,
    store: async (_association, _instance, dataSet) => {
      for await (const chunk of dataSet) void chunk;
      return { status: 0 };
    },
  }));
});

afterEach(async () => {
  await scp.close(0);
});

/** Holds this process's event loop, as a loaded machine or a long synchronous task would. */
function holdEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else runs meanwhile
  }
}

it('an A-ASSOCIATE-RQ that arrived in time is answered, however late the loop reads it', async () => {
  const peer = await RawPeer.open(port);
  // The SCP has accepted the connection and armed ARTIM.
  await new Promise((resolve) => setTimeout(resolve, ARTIM_MS / 5));
  await new Promise<void>((written) =>
    peer.socket.write(
      associateRq({ callingAeTitle: 'MODALITY1', calledAeTitle: 'PACSLINK', maxPduLength: 16 * 1024 }),
      () => {
        // The request is in the SCP's socket; ARTIM comes due while nobody reads it.
        holdEventLoop(4 * ARTIM_MS);
        written();
      },
    ),
  );
  await peer.waitFor((bytes) => bytes.length >= 6);
  expect(peer.bytes()[0]).toBe(A_ASSOCIATE_AC);
});
