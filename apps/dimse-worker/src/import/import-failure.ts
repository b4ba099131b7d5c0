import type { ExportBatchFailureData } from '@pacslink/contracts';
import { DimseError, DimseErrorCode } from '@pacslink/dimse';
import { classifyStoreFailure } from '../export/export.service';
import { ImportPlanError } from './import-plan.errors';

/**
 * Why C-MOVE should take over from a C-GET that failed this way (docs/decisions/0008-import.md,
 * "Fallback"), or undefined when it should not: the C-GET was not possible (the PACS rejected the
 * association, accepted it without the C-GET context or any storage context we offered, or
 * aborted it on reading the C-GET) or not
 * successful (a failure status, instances reported completed that never came). A PACS that cannot
 * be reached or times out would do the same to a C-MOVE: that failure is the run's own.
 */
export function moveFallbackReason(error: unknown): string | undefined {
  if (!(error instanceof DimseError)) return undefined;
  switch (error.code) {
    case DimseErrorCode.PRESENTATION_CONTEXT_REJECTED:
      return `C-GET not possible: ${error.message}`;
    case DimseErrorCode.ASSOCIATION_REJECTED:
      return `C-GET not possible, the association was rejected: ${error.message}`;
    case DimseErrorCode.STATUS_FAILURE:
    case DimseErrorCode.INSTANCES_NOT_RECEIVED:
      return `C-GET not successful: ${error.message}`;
    case DimseErrorCode.ASSOCIATION_ABORTED:
      // The PACS itself (service-user) aborting once it read the C-GET is how Orthanc refuses C-GET
      // to a modality without AllowGet; an abort by the network layer (provider) or during the
      // association's set-up is not a refusal of C-GET.
      return error.details.phase === 'response' && error.details.abort?.source === 0
        ? `C-GET refused, the PACS aborted the association at the request: ${error.message}`
        : undefined;
    case DimseErrorCode.INVALID_REQUEST:
    case DimseErrorCode.CONNECTION_REFUSED:
    case DimseErrorCode.HOST_NOT_FOUND:
    case DimseErrorCode.HOST_UNREACHABLE:
    case DimseErrorCode.TIMEOUT:
    case DimseErrorCode.CONNECTION_LOST:
    case DimseErrorCode.NO_RESPONSE:
    case DimseErrorCode.PROTOCOL_ERROR:
    case DimseErrorCode.CANCELLED:
    case DimseErrorCode.EGRESS_REFUSED:
      return undefined;
  }
}

/** As export classifies a DIMSE failure; a plan the PACS's answers cannot make is permanent. */
export function classifyImportFailure(error: unknown): ExportBatchFailureData {
  if (error instanceof ImportPlanError)
    return { transient: false, reason: error.message, unreachable: false };
  return classifyStoreFailure(error);
}
