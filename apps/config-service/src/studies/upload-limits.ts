export const UPLOAD_LIMITS = Symbol('UPLOAD_LIMITS');

/** How much one upload (POST /studies) may bring; config-service's UPLOAD_MAX_* variables. */
export interface UploadLimits {
  /** One instance: one part, or the whole of a single application/dicom body. */
  maxInstanceBytes: number;
  /** The whole request body, framing included. */
  maxRequestBytes: number;
  /** Parts of one multipart/related body. */
  maxParts: number;
}

/**
 * An upload went past one of its limits (413). What was stored before stays stored; the instance
 * being written is not kept, and the rest of the body is not read.
 */
export class UploadLimitError extends Error {
  override readonly name = 'UploadLimitError';
}

/** The words of each refusal name the limit and the variable that sets it. */
export const uploadLimitExceeded = {
  declaredRequest: (contentLength: number, limits: UploadLimits) =>
    new UploadLimitError(
      `the request body (Content-Length ${contentLength} bytes) exceeds UPLOAD_MAX_REQUEST_BYTES = ${limits.maxRequestBytes} bytes`,
    ),
  declaredInstance: (contentLength: number, limits: UploadLimits) =>
    new UploadLimitError(
      `instance (part 1, Content-Length ${contentLength} bytes) exceeds UPLOAD_MAX_INSTANCE_BYTES = ${limits.maxInstanceBytes} bytes`,
    ),
  request: (limits: UploadLimits) =>
    new UploadLimitError(
      `the request body exceeds UPLOAD_MAX_REQUEST_BYTES = ${limits.maxRequestBytes} bytes`,
    ),
  instance: (part: number, limits: UploadLimits) =>
    new UploadLimitError(
      `instance (part ${part}) exceeds UPLOAD_MAX_INSTANCE_BYTES = ${limits.maxInstanceBytes} bytes`,
    ),
  parts: (limits: UploadLimits) =>
    new UploadLimitError(`the body holds more than UPLOAD_MAX_PARTS = ${limits.maxParts} parts`),
};

/**
 * Refuses, before a byte of the body is read, a body whose Content-Length already exceeds a
 * limit: the request's, or for a single application/dicom body the instance's.
 */
export function checkDeclaredLength(
  contentLength: string | undefined,
  single: boolean,
  limits: UploadLimits,
): void {
  if (contentLength === undefined || !/^\d+$/.test(contentLength)) return;
  const declared = Number(contentLength);
  const overRequest = declared > limits.maxRequestBytes;
  const overInstance = single && declared > limits.maxInstanceBytes;
  // Both exceeded: the smaller limit is the one to name.
  if (overInstance && (!overRequest || limits.maxInstanceBytes <= limits.maxRequestBytes)) {
    throw uploadLimitExceeded.declaredInstance(declared, limits);
  }
  if (overRequest) throw uploadLimitExceeded.declaredRequest(declared, limits);
}
