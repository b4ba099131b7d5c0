import { UploadLimitError, checkDeclaredLength } from './upload-limits';

const limits = { maxInstanceBytes: 1_000, maxRequestBytes: 5_000, maxParts: 10 };

function refusal(contentLength: string | undefined, single: boolean, given = limits): string | undefined {
  try {
    checkDeclaredLength(contentLength, single, given);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UploadLimitError);
    return (error as Error).message;
  }
}

describe('checkDeclaredLength (POST /studies, before the body is read)', () => {
  it('lets a body within the limits, or of unknown length, be read', () => {
    expect(refusal('5000', false)).toBeUndefined();
    expect(refusal('1000', true)).toBeUndefined();
    expect(refusal(undefined, true)).toBeUndefined();
    expect(refusal('not a number', true)).toBeUndefined();
  });

  it('refuses a request body longer than UPLOAD_MAX_REQUEST_BYTES, naming it', () => {
    expect(refusal('5001', false)).toBe(
      'the request body (Content-Length 5001 bytes) exceeds UPLOAD_MAX_REQUEST_BYTES = 5000 bytes',
    );
  });

  it('refuses a single application/dicom body longer than UPLOAD_MAX_INSTANCE_BYTES, naming it', () => {
    expect(refusal('1001', true)).toBe(
      'instance (part 1, Content-Length 1001 bytes) exceeds UPLOAD_MAX_INSTANCE_BYTES = 1000 bytes',
    );
    // A multipart body that long may hold many instances within the limit.
    expect(refusal('1001', false)).toBeUndefined();
  });

  it('names the smaller limit when a single body exceeds both', () => {
    expect(refusal('6000', true)).toContain('UPLOAD_MAX_INSTANCE_BYTES = 1000');
    const requestSmaller = { ...limits, maxInstanceBytes: 8_000 };
    expect(refusal('9000', true, requestSmaller)).toContain('UPLOAD_MAX_REQUEST_BYTES = 5000');
  });
});
