import type { DimsePriority } from './command-set';

/** One stored instance to send. */
export interface StoreInstance {
  /** absolute path of a DICOM Part 10 file (preamble + 'DICM' + group 0002 meta header) */
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  /** as stored (0002,0010) */
  transferSyntaxUid: string;
}

export type StoreOutcomeStatus = 'success' | 'warning' | 'failure';

export interface StoreOutcome {
  sopInstanceUid: string;
  status: StoreOutcomeStatus;
  /** the C-STORE-RSP status when there was one */
  statusCode?: number;
  /** for warning/failure: what happened, in words */
  reason?: string;
}

export interface StoreOptions {
  /** called as each outcome is known (for progress reports); it must not throw */
  onOutcome?: (outcome: StoreOutcome) => void;
  /** stop after the instance in flight, release, reject with a DimseError code CANCELLED */
  signal?: AbortSignal;
  priority?: DimsePriority;
}
