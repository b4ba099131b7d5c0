/** One structured log entry: `msg` plus fields. Never carries secrets or query values (PHI). */
export interface DicomwebLogEntry {
  msg: string;
  [field: string]: unknown;
}

/**
 * What the library logs through, when given one; NestJS's `Logger` and pino loggers fit it
 * (`debug(object)`, `warn(object)`). Without one the library is silent.
 */
export interface DicomwebLogger {
  debug(entry: DicomwebLogEntry): void;
  warn(entry: DicomwebLogEntry): void;
}
