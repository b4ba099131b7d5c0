import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, PEERS_HINT, runDcmtk } from '@pacslink/testing';
import { killOnExit } from './child-processes';

export interface Storescp {
  aet: string;
  host: string;
  port: number;
  /** Received files: `<Modality>.<SOPInstanceUID>` (storescp -uf). */
  dir: string;
  /** The received file of an instance, or undefined if it never arrived. */
  received(modality: string, sopInstanceUid: string): Promise<Buffer | undefined>;
  stop(): Promise<void>;
}

/**
 * A DCMTK storescp of the suite's own (own port, own folder, killed with the suite), as
 * scripts/test-peers.sh runs the shared one: every transfer syntax DCMTK knows, files named by
 * SOP Instance UID, one association at a time.
 */
export async function startStorescp(dir: string, aet: string, logFile: string): Promise<Storescp> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const output = openSync(logFile, 'a');
  const child = spawn('storescp', ['--single-process', '-aet', aet, '+xa', '-od', dir, '-uf', String(port)], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  killOnExit(child);
  for (let tries = 0; ; tries++) {
    try {
      await runDcmtk('echoscu', ['-aet', 'FAULTS', '-aec', aet, '127.0.0.1', String(port)], {
        timeoutMs: 5_000,
      });
      break;
    } catch (error) {
      if (tries >= 50 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`storescp ${aet} did not answer C-ECHO: ${(error as Error).message}\n${PEERS_HINT}`);
      }
      await sleep(100);
    }
  }
  return {
    aet,
    host: '127.0.0.1',
    port,
    dir,
    received: (modality, sopInstanceUid) =>
      readFile(join(dir, `${modality}.${sopInstanceUid}`)).catch(() => undefined),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
