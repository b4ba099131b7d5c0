import { StudyError, StudyErrorCode } from './studies.errors';
import { isDicomPart, uploadFraming } from './upload-body';

function refusal(contentType: string | undefined): StudyError {
  try {
    uploadFraming(contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(StudyError);
    return error as StudyError;
  }
  throw new Error(`${contentType} was accepted`);
}

describe('uploadFraming (Content-Type of POST /studies)', () => {
  it.each([
    ['application/dicom', { kind: 'single' }],
    ['Application/DICOM; charset=binary', { kind: 'single' }],
    ['multipart/related; type="application/dicom"; boundary=abc', { kind: 'multipart', boundary: 'abc' }],
    ['multipart/related;boundary="a;b c";type=application/dicom', { kind: 'multipart', boundary: 'a;b c' }],
    ['multipart/related; type="Application/Dicom"; boundary="q\\"x"', { kind: 'multipart', boundary: 'q"x' }],
  ])('reads %j', (contentType, framing) => {
    expect(uploadFraming(contentType)).toEqual(framing);
  });

  it.each([
    ['text/plain', StudyErrorCode.UnsupportedMediaType, 'Content-Type "text/plain" is not accepted'],
    ['multipart/form-data; boundary=x', StudyErrorCode.UnsupportedMediaType, '"multipart/form-data"'],
    ['multipart/related; boundary=x', StudyErrorCode.UnsupportedMediaType, 'without a type parameter'],
    ['multipart/related; type=application/dicom', StudyErrorCode.MalformedContentType, 'needs a boundary'],
    [
      'multipart/related; type=application/dicom; boundary=""',
      StudyErrorCode.MalformedContentType,
      'needs a boundary',
    ],
    ['  ', StudyErrorCode.UnsupportedMediaType, 'the request has no Content-Type'],
    [undefined, StudyErrorCode.UnsupportedMediaType, 'the request has no Content-Type'],
  ])('refuses %j', (contentType, code, detail) => {
    const error = refusal(contentType);
    expect(error.code).toBe(code);
    expect(error.message).toContain(detail);
  });

  it('tells a DICOM part by its media type, parameters aside', () => {
    expect(isDicomPart('application/dicom')).toBe(true);
    expect(isDicomPart('application/dicom; transfer-syntax=1.2.840.10008.1.2.1')).toBe(true);
    expect(isDicomPart('application/dicom+xml')).toBe(false);
    expect(isDicomPart(undefined)).toBe(false);
  });
});
