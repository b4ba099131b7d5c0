import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who writes a temporary file of the store, written into its name: the sweeper removes at once a
 * file whose writer is known to be dead, and any other only once it is old (StudyStore.sweepTemporaryFiles).
 */
export interface TemporaryFileOwner {
  /** The host name and, on Linux, the process's PID namespace: a PID means something only inside it. */
  host: string;
  pid: number;
}

const SUFFIX = '.part';
const SEPARATOR = '_';

/**
 * This process. Containers sharing STORE_DIR may have the same host name (and often PID 1):
 * their PID namespaces differ, so they never take each other's PIDs for their own.
 */
export function currentOwner(): TemporaryFileOwner {
  return { host: `${safe(hostname())}~${pidNamespace()}`, pid: process.pid };
}

/** `<host>_<pid>_<uuid>.part`: unique, and says who writes it. */
export function temporaryFileName(owner: TemporaryFileOwner = currentOwner()): string {
  return [owner.host, owner.pid, randomUUID()].join(SEPARATOR) + SUFFIX;
}

/** The writer a temporary file's name gives, or undefined for a name that gives none (older versions). */
export function ownerOf(name: string): TemporaryFileOwner | undefined {
  if (!name.endsWith(SUFFIX)) return undefined;
  const fields = name.slice(0, -SUFFIX.length).split(SEPARATOR);
  if (fields.length < 3) return undefined;
  const pid = Number(fields[fields.length - 2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { host: fields.slice(0, -2).join(SEPARATOR), pid };
}

/** Whether a process of this PID namespace exists (EPERM: it does, it is someone else's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidNamespace(): string {
  try {
    // "pid:[4026531836]"
    return readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
  } catch {
    return 'unknown';
  }
}

/** Host names are letters, digits, '-' and '.'; anything else would not be a safe file name. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, '-');
}
