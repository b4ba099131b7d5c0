/** Progress lines go to stderr, so that stdout carries only the results. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
