import { redactUrl } from './redact-urls';
import { tracingEnabled } from './tracing-env';

describe('redactUrl', () => {
  it('drops the query and replaces each UID segment, keeping the origin', () => {
    expect(
      redactUrl(
        'https://user:pw@10.0.0.5:8042/dicom-web/studies/1.2.840.113619.2.55/series/1.3.6?PatientName=DOE',
      ),
    ).toBe('https://10.0.0.5:8042/dicom-web/studies/{uid}/series/{uid}');
    expect(redactUrl('/api/v1/studies/1.2.3/instances?ticket=abc')).toBe('/api/v1/studies/{uid}/instances');
  });

  it('leaves ids that are not UIDs (uuids, plain numbers)', () => {
    const path = '/api/v1/transfers/6f1c1f43-8f5e-4f39-9b43-6d2b4a3d1c11/batches/12';
    expect(redactUrl(path)).toBe(path);
  });
});

describe('tracingEnabled', () => {
  it('is on only with an OTLP endpoint, and off when the SDK or the exporter is disabled', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBe(
      false,
    );
    expect(
      tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBe(false);
  });
});
