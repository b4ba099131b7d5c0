import { readFile, writeFile } from 'node:fs/promises';
const SAMPLE_EVERY_MS = 100;

export interface PeakMemory {
  app: string;
  /** VmHWM: the kernel's own high-water mark of resident memory since the last reset. */
  peakKb: number;
}

async function vmHwmKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no VmHWM`);
  return Number(match[1]);
}

/**
 * Peak RSS of `services` during `work`. Writing 5 to clear_refs resets VmHWM to the current RSS
 * (proc(5), Linux 4.0+), so earlier runs in the same process do not count. VmHWM is read again
 * every 100 ms as well, so that a process that dies mid-run still reports what it reached.
 */
export async function peakMemoryDuring(
  services: readonly { app: string; pid: number }[],
  work: () => Promise<unknown>,
): Promise<PeakMemory[]> {
  for (const { pid } of services) await writeFile(`/proc/${pid}/clear_refs`, '5');
  const peaks = new Map<number, number>(services.map(({ pid }) => [pid, 0]));
  const sample = async () => {
    for (const { pid } of services) {
      const hwm = await vmHwmKb(pid).catch(() => 0);
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, hwm));
    }
  };
  const timer = setInterval(() => void sample(), SAMPLE_EVERY_MS);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  await sample();
  return services.map(({ app, pid }) => ({ app, peakKb: peaks.get(pid) ?? 0 }));
}
