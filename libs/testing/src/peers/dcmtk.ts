import { execFile } from 'node:child_process';

export interface DcmtkResult {
  stdout: string;
  stderr: string;
  /** stdout as received: DCMTK prints undeclared text values as raw bytes. */
  stdoutBytes: Buffer;
}

export interface DcmtkOptions {
  timeoutMs?: number;
  cwd?: string;
}

/**
 * Runs a DCMTK command-line tool with TCP_NODELAY=1 (Debian's DCMTK leaves Nagle on without it,
 * costing 40-90 ms per DIMSE round trip); rejects on a non-zero exit with the tool's output.
 */
export function runDcmtk(
  tool: string,
  args: readonly string[],
  options: DcmtkOptions = {},
): Promise<DcmtkResult> {
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, TCP_NODELAY: '1' },
        timeout: options.timeoutMs ?? 60_000,
        encoding: 'buffer',
        maxBuffer: 64 << 20,
      },
      (error, stdoutBytes, stderrBytes) => {
        const result = {
          stdout: stdoutBytes.toString('utf8'),
          stderr: stderrBytes.toString('utf8'),
          stdoutBytes,
        };
        if (!error) return resolve(result);
        if (error.code === 'ENOENT') {
          return reject(
            new Error(`${tool} not found: install the Debian package dcmtk (npm run peers:start does)`),
          );
        }
        const how = error.killed ? 'timed out' : `exited with ${String(error.code)}`;
        reject(new Error(`${tool} ${args.join(' ')} ${how}\n${result.stderr}${result.stdout}`.trim()));
      },
    );
  });
}

/** Where storescu sends: a DICOM peer's AE title and address. */
export interface StorescuTarget {
  aet: string;
  host: string;
  port: number;
}

/**
 * Sends files (or, with `+sd +r` in `extra`, directories) to `target` with DCMTK storescu as
 * calling AE STORESCU, in one association: how the tests put studies into a PACS peer.
 */
export function storescu(
  target: StorescuTarget,
  files: readonly string[],
  extra: readonly string[] = [],
): Promise<DcmtkResult> {
  return runDcmtk('storescu', [
    ...extra,
    '-aet',
    'STORESCU',
    '-aec',
    target.aet,
    target.host,
    String(target.port),
    ...files,
  ]);
}
