import { SCHEDULED_DATE_PATTERN, type WorklistFiltersData } from '@pacslink/contracts';
import { queryFilterProblem } from '@pacslink/dicom';
import type { FieldError } from '../http/validation';
import { WorklistError, WorklistErrorCode } from './worklist.errors';

type Check = (value: string) => string | undefined;

function scheduledDateProblem(value: string): string | undefined {
  if (!SCHEDULED_DATE_PATTERN.test(value)) {
    return `"${value}" is not a date (YYYYMMDD) or a date range (YYYYMMDD-YYYYMMDD)`;
  }
  // The calendar and the range's order, as a Study Root date key is checked (one home for dates).
  return queryFilterProblem('study', 'StudyDate', value);
}

const CHECKS: Readonly<Record<keyof WorklistFiltersData, Check>> = {
  scheduledDate: scheduledDateProblem,
  modality: (value) =>
    /^[A-Z0-9_ ]{1,16}$/.test(value)
      ? undefined
      : `"${value}" is not a modality code (upper-case letters, digits, space and underscore, at most 16 characters)`,
  scheduledStationAeTitle: (value) =>
    /^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(value)
      ? undefined
      : `"${value}" is not an AE title (1-16 printable ASCII characters, no backslash)`,
};

/** The filters as the contract carries them, or a WorklistError naming every bad `filters.<name>`. */
export function checkWorklistFilters(filters: Record<string, unknown>): WorklistFiltersData {
  const errors: FieldError[] = [];
  const checked: WorklistFiltersData = {};
  for (const [name, value] of Object.entries(filters)) {
    const field = `filters.${name}`;
    const check = CHECKS[name as keyof WorklistFiltersData] as Check | undefined;
    const problem =
      check === undefined
        ? `is not a worklist filter; the filters are ${Object.keys(CHECKS).join(', ')}`
        : typeof value !== 'string'
          ? 'must be a string'
          : check(value);
    if (problem !== undefined) errors.push({ field, message: `${field}: ${problem}` });
    else checked[name as keyof WorklistFiltersData] = value as string;
  }
  if (errors.length > 0) {
    throw new WorklistError(
      WorklistErrorCode.InvalidFilters,
      errors.map((error) => error.message).join('; '),
      errors,
    );
  }
  return checked;
}
