import { maskPatientData, type PatientIdentity } from '@pacslink/dicom';
import type { ExportBatchFinishedData } from '@pacslink/contracts';

type Report = Pick<ExportBatchFinishedData, 'outcomes' | 'failure'>;

/** Whether a report quotes anything a PACS may have written: an instance's reason or the failure's. */
export function hasReportText(report: Report): boolean {
  return report.failure !== undefined || report.outcomes.some((outcome) => outcome.reason !== undefined);
}

/**
 * A worker's report with the study's patient masked in every reason (the worker is not told whose
 * study it sends, so the PACS's words arrive as the PACS wrote them, bounded): before they are
 * stored, and so before they reach the API, the events, the audit and the logs.
 */
export function maskReport<T extends Report>(report: T, patient: PatientIdentity): T {
  return {
    ...report,
    outcomes: report.outcomes.map((outcome) =>
      outcome.reason === undefined
        ? outcome
        : { ...outcome, reason: maskPatientData(outcome.reason, patient) },
    ),
    ...(report.failure === undefined
      ? {}
      : { failure: { ...report.failure, reason: maskPatientData(report.failure.reason, patient) } }),
  };
}
