import {
  BadRequestException,
  ConflictException,
  type HttpException,
  NotFoundException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { VALIDATION_PROBLEM_TYPE } from '../http/dto/problem.response';

export enum StudyErrorCode {
  NotFound = 'not-found',
  InvalidUid = 'invalid-uid',
  UnsupportedMediaType = 'unsupported-media-type',
  MalformedContentType = 'malformed-content-type',
  NoParts = 'no-parts',
  MalformedMultipart = 'malformed-multipart',
  UploadAborted = 'upload-aborted',
  TransferActive = 'transfer-active',
}

/** What can go wrong with the study store's API, independent of the transport. */
export class StudyError extends Error {
  override readonly name = 'StudyError';

  constructor(
    readonly code: StudyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const PROBLEMS = 'https://pacslink.dev/problems';

/** The one mapping of these errors to HTTP (problem+json through the global filter). */
export function toHttpException(error: StudyError): HttpException {
  const detail = error.message;
  switch (error.code) {
    case StudyErrorCode.NotFound:
      return new NotFoundException({ type: `${PROBLEMS}/study-not-found`, title: 'study not found', detail });
    case StudyErrorCode.InvalidUid:
      return new BadRequestException({
        type: VALIDATION_PROBLEM_TYPE,
        title: 'invalid request',
        detail,
        errors: [{ field: 'studyInstanceUid', message: detail }],
      });
    case StudyErrorCode.UnsupportedMediaType:
      return new UnsupportedMediaTypeException({
        type: `${PROBLEMS}/unsupported-media-type`,
        title: 'unsupported media type',
        detail,
      });
    case StudyErrorCode.MalformedContentType:
      return new BadRequestException({
        type: `${PROBLEMS}/malformed-content-type`,
        title: 'invalid request',
        detail,
      });
    case StudyErrorCode.NoParts:
      return new BadRequestException({ type: `${PROBLEMS}/empty-upload`, title: 'invalid request', detail });
    case StudyErrorCode.MalformedMultipart:
      return new BadRequestException({
        type: `${PROBLEMS}/malformed-multipart`,
        title: 'invalid request',
        detail,
      });
    case StudyErrorCode.UploadAborted:
      // Mostly unread: the client is gone. Answered (not logged as a server error) all the same.
      return new BadRequestException({
        type: `${PROBLEMS}/upload-aborted`,
        title: 'incomplete upload',
        detail,
      });
    case StudyErrorCode.TransferActive:
      return new ConflictException({
        type: `${PROBLEMS}/study-in-transfer`,
        title: 'study in transfer',
        detail,
      });
  }
}
