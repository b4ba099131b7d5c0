import { DicomwebError, DicomwebErrorCode, isUnreachableDicomwebError } from './dicomweb.errors';

describe("isUnreachableDicomwebError: what counts toward a PACS's circuit", () => {
  const unreachable = (code: DicomwebErrorCode, httpStatus?: number): boolean | undefined =>
    isUnreachableDicomwebError(new DicomwebError(code, 'x', { httpStatus }));

  it('counts a PACS nobody reaches, or that a gateway says is not there (502, 503, 504)', () => {
    for (const code of [
      DicomwebErrorCode.DnsNotFound,
      DicomwebErrorCode.ConnectionRefused,
      DicomwebErrorCode.NetworkUnreachable,
      DicomwebErrorCode.ConnectTimeout,
      DicomwebErrorCode.ConnectionClosed,
      DicomwebErrorCode.TokenEndpointUnreachable,
    ]) {
      expect(unreachable(code)).toBe(true);
    }
    for (const status of [502, 503, 504])
      expect(unreachable(DicomwebErrorCode.ServerError, status)).toBe(true);
  });

  it('does not count a PACS that answered: another status (429 and 500 too), TLS, a slow answer', () => {
    expect(unreachable(DicomwebErrorCode.ServerError, 500)).toBe(false);
    expect(unreachable(DicomwebErrorCode.RateLimited, 429)).toBe(false);
    expect(unreachable(DicomwebErrorCode.ResponseTimeout)).toBe(false);
    expect(unreachable(DicomwebErrorCode.AuthenticationRejected, 401)).toBe(false);
    expect(unreachable(DicomwebErrorCode.TlsUntrusted)).toBe(false);
    expect(unreachable(DicomwebErrorCode.NotDicomweb, 200)).toBe(false);
    // WADO-RS: the PACS answered, then stopped, garbled it, or holds no such study
    expect(unreachable(DicomwebErrorCode.ResponseTruncated)).toBe(false);
    expect(unreachable(DicomwebErrorCode.MalformedMultipart)).toBe(false);
    expect(unreachable(DicomwebErrorCode.StudyNotFound)).toBe(false);
  });

  it('says nothing when nothing was sent, or the network error has no name', () => {
    expect(unreachable(DicomwebErrorCode.EgressRefused)).toBeUndefined();
    expect(unreachable(DicomwebErrorCode.Aborted)).toBeUndefined();
    expect(unreachable(DicomwebErrorCode.InvalidRequest)).toBeUndefined();
    expect(unreachable(DicomwebErrorCode.NetworkError)).toBeUndefined();
  });
});
