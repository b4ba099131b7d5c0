/**
 * What global setup started and global teardown must stop. Both run in jest's main process; the
 * state hangs on globalThis because jest may load the two files through separate module registries.
 */
interface RunState {
  stopServices?: () => Promise<void>;
  /** Peers this run started (not ones it found running), which its teardown stops. */
  startedPeers?: boolean;
}

const holder = globalThis as typeof globalThis & { __pacslinkTestRun?: RunState };

export const runState: RunState = (holder.__pacslinkTestRun ??= {});
