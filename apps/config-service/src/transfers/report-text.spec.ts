import { hasReportText, maskReport } from './report-text';

const patient = { patientName: 'DOE^JOHN', patientId: 'PID-4711' };
const ref = { transferId: 't', batchId: 'b', attempt: 1 };

describe('maskReport', () => {
  it("masks the patient in every instance's reason and in the failure, and keeps the rest", () => {
    const report = {
      ...ref,
      outcomes: [
        { sopInstanceUid: '1.2.3', status: 'success' as const },
        {
          sopInstanceUid: '1.2.4',
          status: 'failure' as const,
          statusCode: 0xa700,
          reason: '0xA700 (refused: out of resources): “no space for Doe, John (PID-4711)”',
        },
      ],
      failure: { transient: false, reason: 'the server failed (HTTP 500): “John Doe is locked”' },
    };
    expect(maskReport(report, patient)).toEqual({
      ...ref,
      outcomes: [
        { sopInstanceUid: '1.2.3', status: 'success' },
        {
          sopInstanceUid: '1.2.4',
          status: 'failure',
          statusCode: 0xa700,
          reason: '0xA700 (refused: out of resources): “no space for ***, *** (***)”',
        },
      ],
      failure: { transient: false, reason: 'the server failed (HTTP 500): “*** *** is locked”' },
    });
    expect(hasReportText(report)).toBe(true);
  });

  it('leaves a report without reasons as it is, and says it holds no text', () => {
    const report = { ...ref, outcomes: [{ sopInstanceUid: '1.2.3', status: 'success' as const }] };
    expect(maskReport(report, patient)).toEqual(report);
    expect(hasReportText(report)).toBe(false);
  });
});
