import { ConflictException, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';

/** The problem types of this feature, so that a client can tell one 409 from the other. */
export const LocalAeTitleProblem = {
  exists: 'https://pacslink.dev/problems/local-ae-title-exists',
  notFound: 'https://pacslink.dev/problems/local-ae-title-not-found',
  isDefault: 'https://pacslink.dev/problems/local-ae-title-is-default',
} as const;

/** 409: a local AE title equal to the given one, compared case-insensitively, already exists. */
export function localAeTitleExists(aeTitle: string, existing = aeTitle): ConflictException {
  return new ConflictException({
    type: LocalAeTitleProblem.exists,
    title: 'local AE title exists',
    detail:
      existing === aeTitle
        ? `the local AE title "${aeTitle}" already exists`
        : `the local AE title "${existing}" already exists (AE titles are compared case-insensitively)`,
  });
}

/** 404: no local AE title equals the given one, compared case-insensitively. */
export function localAeTitleNotFound(aeTitle: string): NotFoundException {
  return new NotFoundException({
    type: LocalAeTitleProblem.notFound,
    title: 'local AE title not found',
    detail: `there is no local AE title "${aeTitle}"`,
  });
}

/** 409: the title is the settings' default calling AE title, which must stay a local AE title. */
export function localAeTitleIsDefault(aeTitle: string): ConflictException {
  return new ConflictException({
    type: LocalAeTitleProblem.isDefault,
    title: 'local AE title is the default calling AE title',
    detail:
      `"${aeTitle}" is the defaultCallingAeTitle in the settings and cannot be deleted: ` +
      'make another local AE title the default with PUT /api/v1/settings first',
  });
}

/** Postgres error codes (Appendix A of the Postgres manual) this feature maps to answers. */
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
/** The settings' foreign key to its default calling AE title (see the migration). */
export const DEFAULT_CALLING_AE_TITLE_FKEY = 'settings_default_calling_ae_title_fkey';

function postgresError(error: unknown): { code?: string; constraint?: string } | undefined {
  return error instanceof QueryFailedError
    ? (error.driverError as { code?: string; constraint?: string })
    : undefined;
}

/** A concurrent insert of the same title (any case) won the race for the unique index. */
export function isUniqueViolation(error: unknown): boolean {
  return postgresError(error)?.code === UNIQUE_VIOLATION;
}

/** The title is still referenced as the default calling AE title (a concurrent PUT /settings included). */
export function isDefaultCallingAeTitleReference(error: unknown): boolean {
  const pg = postgresError(error);
  return pg?.code === FOREIGN_KEY_VIOLATION && pg.constraint === DEFAULT_CALLING_AE_TITLE_FKEY;
}
