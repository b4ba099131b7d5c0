import { BadRequestException } from '@nestjs/common';
import { VALIDATION_PROBLEM_TYPE } from '../http/dto/problem.response';

/** How many local AE titles a message lists before it says "and N more". */
const LISTED = 20;

/** 400: `defaultCallingAeTitle` must be one of the local AE titles; says which exist, or that none do. */
export function notALocalAeTitle(given: string, localAeTitles: string[]): BadRequestException {
  const listed = localAeTitles.slice(0, LISTED).map((title) => `"${title}"`);
  if (localAeTitles.length > LISTED) listed.push(`and ${localAeTitles.length - LISTED} more`);
  const message =
    localAeTitles.length === 0
      ? `defaultCallingAeTitle "${given}" is not a local AE title, and there are none: ` +
        'create one with POST /api/v1/local-ae-titles first'
      : `defaultCallingAeTitle "${given}" is not a local AE title (the local AE titles are ${listed.join(', ')}); ` +
        'add it with POST /api/v1/local-ae-titles or choose one of those';
  return new BadRequestException({
    type: VALIDATION_PROBLEM_TYPE,
    title: 'invalid request',
    detail: message,
    errors: [{ field: 'defaultCallingAeTitle', message }],
  });
}
