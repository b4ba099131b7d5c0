import { DicomwebErrorCode } from '@pacslink/dicomweb';
import { DimseErrorCode } from '@pacslink/dimse';
import { Registry } from 'prom-client';
import {
  ASSOCIATION_FAILURE_REASON_OF_CODE,
  AssociationFailureCounter,
  AssociationFailureReasons,
  associationFailureReason,
} from './association-failures';

describe('association failure reasons', () => {
  it('decides every DIMSE and DICOMweb error code: a reason of the closed set, or not counted', () => {
    for (const code of [...Object.values(DimseErrorCode), ...Object.values(DicomwebErrorCode)]) {
      expect(ASSOCIATION_FAILURE_REASON_OF_CODE).toHaveProperty([code]);
      const reason = ASSOCIATION_FAILURE_REASON_OF_CODE[code];
      if (reason !== null) expect(AssociationFailureReasons).toContain(reason);
    }
  });

  it('maps what the workers classify', () => {
    const failure = (code?: string) => ({ transient: true, reason: 'words', code });
    expect(associationFailureReason(failure('ASSOCIATION_REJECTED'))).toBe('rejected');
    expect(associationFailureReason(failure('CONNECTION_REFUSED'))).toBe('refused');
    expect(associationFailureReason(failure('TLS_UNTRUSTED'))).toBe('tls');
    expect(associationFailureReason(failure('SERVER_ERROR'))).toBe('http_5xx');
    // The PACS accepted the association and refused the instances: not an association failure.
    expect(associationFailureReason(failure('STATUS_FAILURE'))).toBeUndefined();
    expect(associationFailureReason(failure(undefined))).toBeUndefined();
    expect(associationFailureReason(failure('A_CODE_NOBODY_KNOWS'))).toBeUndefined();
  });

  it('counts by PACS configuration id and reason, unknown without an id', async () => {
    const registry = new Registry();
    const counter = new AssociationFailureCounter(registry);
    counter.record('5d1b2c3a-0000-4000-8000-000000000001', { transient: true, reason: 'r', code: 'TIMEOUT' });
    counter.record('5d1b2c3a-0000-4000-8000-000000000001', {
      transient: true,
      reason: 'r',
      code: 'NO_RESPONSE',
    });
    counter.record(undefined, { transient: false, reason: 'r', code: 'ASSOCIATION_REJECTED' });
    counter.record(undefined, { transient: false, reason: 'r', code: 'STATUS_FAILURE' });
    const text = await registry.metrics();
    expect(text).toContain(
      'pacslink_association_failures_total{pacs_config="5d1b2c3a-0000-4000-8000-000000000001",reason="timeout"} 2',
    );
    expect(text).toContain('pacslink_association_failures_total{pacs_config="unknown",reason="rejected"} 1');
    expect(text.match(/^pacslink_association_failures_total\{/gm)).toHaveLength(2);
  });
});
