import { DimseError, DimseErrorCode } from '@pacslink/dimse';
import { classifyImportFailure, moveFallbackReason } from './import-failure';
import { ImportPlanError } from './import-plan.errors';

const GET_SOP_CLASS = '1.2.840.10008.5.1.4.1.2.2.3';

describe('moveFallbackReason (get-then-move)', () => {
  it.each([
    [
      new DimseError(
        DimseErrorCode.PRESENTATION_CONTEXT_REJECTED,
        'the PACS does not accept Study Root Query/Retrieve (C-GET)',
        {
          abstractSyntaxUid: GET_SOP_CLASS,
        },
      ),
      'C-GET not possible: the PACS does not accept Study Root Query/Retrieve (C-GET)',
    ],
    [
      new DimseError(
        DimseErrorCode.ASSOCIATION_REJECTED,
        'rejected (permanent): calling AE title not recognized',
        {
          reject: { result: 1, source: 1, reason: 3 },
        },
      ),
      'C-GET not possible, the association was rejected: rejected (permanent): calling AE title not recognized',
    ],
    [
      new DimseError(DimseErrorCode.STATUS_FAILURE, 'C-GET answered status 0xC000', { status: 0xc000 }),
      'C-GET not successful: C-GET answered status 0xC000',
    ],
    [
      new DimseError(
        DimseErrorCode.INSTANCES_NOT_RECEIVED,
        'the PACS reported 3 C-GET sub-operations completed but sent 0',
      ),
      'C-GET not successful: the PACS reported 3 C-GET sub-operations completed but sent 0',
    ],
  ])('falls back on %s', (error, reason) => {
    expect(moveFallbackReason(error)).toBe(reason);
  });

  it.each([
    DimseErrorCode.CONNECTION_REFUSED,
    DimseErrorCode.TIMEOUT,
    DimseErrorCode.CANCELLED,
    DimseErrorCode.EGRESS_REFUSED,
    DimseErrorCode.PROTOCOL_ERROR,
  ])('does not fall back on %s: a C-MOVE to the same PACS would fail alike', (code) => {
    expect(moveFallbackReason(new DimseError(code, 'x'))).toBeUndefined();
  });

  it('falls back when the PACS itself aborts on reading the C-GET (Orthanc without AllowGet), not on other aborts', () => {
    const abort = (phase: 'association' | 'response', source: number) =>
      new DimseError(DimseErrorCode.ASSOCIATION_ABORTED, 'the PACS aborted the association', {
        phase,
        abort: { source, reason: 0 },
      });
    expect(moveFallbackReason(abort('response', 0))).toBe(
      'C-GET refused, the PACS aborted the association at the request: the PACS aborted the association',
    );
    expect(moveFallbackReason(abort('response', 2))).toBeUndefined();
    expect(moveFallbackReason(abort('association', 0))).toBeUndefined();
  });

  it('does not fall back on what is not the PACS (the study store failing)', () => {
    expect(moveFallbackReason(new Error('ENOSPC: no space left on device'))).toBeUndefined();
  });
});

describe('classifyImportFailure', () => {
  it('a plan the PACS answers cannot make is permanent, and the PACS answered', () => {
    expect(classifyImportFailure(new ImportPlanError('no SOPClassUID'))).toEqual({
      transient: false,
      reason: 'no SOPClassUID',
      unreachable: false,
    });
  });

  it('DIMSE failures as export classifies them: a transient rejection retries, a permanent one does not', () => {
    const busy = new DimseError(DimseErrorCode.ASSOCIATION_REJECTED, 'busy', {
      reject: { result: 2, source: 1, reason: 2 },
    });
    const refused = new DimseError(DimseErrorCode.ASSOCIATION_REJECTED, 'no', {
      reject: { result: 1, source: 1, reason: 3 },
    });
    expect(classifyImportFailure(busy)).toMatchObject({
      transient: true,
      code: 'ASSOCIATION_REJECTED',
      unreachable: false,
    });
    expect(classifyImportFailure(refused)).toMatchObject({ transient: false, code: 'ASSOCIATION_REJECTED' });
    expect(classifyImportFailure(new DimseError(DimseErrorCode.CONNECTION_REFUSED, 'refused'))).toMatchObject(
      {
        transient: true,
        unreachable: true,
      },
    );
    expect(classifyImportFailure(new DimseError(DimseErrorCode.INSTANCES_NOT_RECEIVED, 'x'))).toMatchObject({
      transient: false,
    });
  });

  it('the study store failing (a full disk) is transient', () => {
    expect(classifyImportFailure(new Error('ENOSPC: no space left on device'))).toEqual({
      transient: true,
      reason: 'ENOSPC: no space left on device',
    });
  });
});
