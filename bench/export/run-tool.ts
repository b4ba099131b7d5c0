import { spawn } from 'node:child_process';

const OUTPUT_KEPT = 4_000;

/**
 * Runs a command-line tool to its end and rejects on a non-zero exit with the tail of its output.
 * TCP_NODELAY=1: Debian's DCMTK leaves Nagle on without it (40-90 ms per DIMSE round trip).
 */
export function runTool(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${command} not found: install it (Debian packages dcmtk, curl)`)
          : error,
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(output);
      const how = signal ? `was killed by ${signal} (timeout ${timeoutMs} ms?)` : `exited with ${code}`;
      reject(new Error(`${command} ${how}: ${output.trim()}`));
    });
  });
}
