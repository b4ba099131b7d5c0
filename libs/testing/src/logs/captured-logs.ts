import fs from 'node:fs';

export interface CapturedLogs {
  /** Every chunk written to stdout or stderr since capture began, in order. */
  readonly chunks: string[];
  /** The parsed JSON log lines of our services (pino), in order. */
  entries(): Record<string, unknown>[];
  /** Puts the real writers back. */
  restore(): void;
}

type Writer = (...args: unknown[]) => unknown;

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data))
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return String(data);
}

/** A pino line of one of our services: kept out of the test's output unless TEST_LOGS=1. */
const ours = (text: string): boolean => text.includes('"service":"') && !process.env.TEST_LOGS;

/**
 * Captures what the services running in this process log, to prove what a log line never holds.
 * pino writes through process.stdout when its `write` has been replaced, else straight to file
 * descriptor 1 (sonic-boom: fs.write, fs.writeSync): all of these are caught. Call it before the
 * services boot (pino picks its destination then), and restore() after they stopped.
 */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const undo: (() => void)[] = [];
  const replace = (target: object, name: string, make: (real: Writer) => Writer) => {
    const holder = target as Record<string, Writer>;
    const real = holder[name].bind(target);
    holder[name] = make(real);
    undo.push(() => {
      holder[name] = real;
    });
  };
  for (const stream of [process.stdout, process.stderr]) {
    replace(stream, 'write', (real) => (data, ...rest) => {
      const text = textOf(data);
      chunks.push(text);
      if (!ours(text)) return real(data, ...rest);
      const callback = rest[rest.length - 1];
      if (typeof callback === 'function') process.nextTick(callback);
      return true;
    });
  }
  const toConsole = (fd: unknown) => fd === 1 || fd === 2;
  replace(fs, 'writeSync', (real) => (fd, data, ...rest) => {
    if (!toConsole(fd)) return real(fd, data, ...rest);
    const text = textOf(data);
    chunks.push(text);
    return ours(text) ? Buffer.byteLength(text) : real(fd, data, ...rest);
  });
  replace(fs, 'write', (real) => (fd, data, ...rest) => {
    if (!toConsole(fd)) return real(fd, data, ...rest);
    const text = textOf(data);
    chunks.push(text);
    if (!ours(text)) return real(fd, data, ...rest);
    const callback = rest[rest.length - 1];
    if (typeof callback === 'function') process.nextTick(callback, null, Buffer.byteLength(text), data);
    return undefined;
  });
  return {
    chunks,
    entries: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes('"service":"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      for (const step of undo.reverse()) step();
    },
  };
}
