/**
 * The matching keys a PACS query (C-FIND Study Root or QIDO-RS) may use, and the checks of their
 * values. The keys are those of PS3.4 C.6.2.1 (Study Root: Table C.6-5 for the study level, patient
 * attributes included; Tables C.6-3 and C.6-4 for series and instances) that make sense as a
 * filter: no sequences, no response-only keys (NumberOf…, RetrieveAETitle, …) and no binary VRs.
 * A key of a level may be used at that level and below (PS3.4 C.4.1.2.2.1).
 */

import { ATTRIBUTES_BY_KEYWORD, keyAllowedAtLevel, type QueryLevel } from './dictionary';
import { uidProblem } from './uid';

export type QueryFilterLevel = 'study' | 'series' | 'instance';

export type QueryFilterVr = 'AE' | 'AS' | 'CS' | 'DA' | 'IS' | 'LO' | 'LT' | 'PN' | 'SH' | 'TM' | 'UI';

export interface QueryFilterKey {
  keyword: string;
  /** 8 upper-case hex digits: the DICOM JSON key */
  tag: string;
  vr: QueryFilterVr;
  level: QueryFilterLevel;
}

const FILTER_VRS: ReadonlySet<string> = new Set<QueryFilterVr>([
  'AE',
  'AS',
  'CS',
  'DA',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'TM',
  'UI',
]);

const LEVEL_OF: Readonly<Record<QueryFilterLevel, QueryLevel>> = {
  study: 'STUDY',
  series: 'SERIES',
  instance: 'IMAGE',
};
const FILTER_LEVEL_OF: Readonly<Record<QueryLevel, QueryFilterLevel>> = {
  STUDY: 'study',
  SERIES: 'series',
  IMAGE: 'instance',
};

/** The keys of the dictionary (tag, VR, level) that a query may filter on. */
const FILTER_KEYWORDS: readonly string[] = [
  // Patient and study (Table C.6-5)
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientBirthTime',
  'PatientSex',
  'OtherPatientIDs',
  'OtherPatientNames',
  'PatientAge',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ModalitiesInStudy',
  'InstitutionName',
  'ReferringPhysicianName',
  'StudyDescription',
  'NameOfPhysiciansReadingStudy',
  'StudyInstanceUID',
  'StudyID',
  // Series (Table C.6-3)
  'SeriesDate',
  'SeriesTime',
  'Modality',
  'Manufacturer',
  'StationName',
  'SeriesDescription',
  'InstitutionalDepartmentName',
  'PerformingPhysicianName',
  'OperatorsName',
  'BodyPartExamined',
  'ProtocolName',
  'SeriesInstanceUID',
  'SeriesNumber',
  'Laterality',
  'PerformedProcedureStepStartDate',
  'PerformedProcedureStepStartTime',
  // Composite object instance (Table C.6-4)
  'SOPClassUID',
  'SOPInstanceUID',
  'AcquisitionDate',
  'ContentDate',
  'AcquisitionTime',
  'ContentTime',
  'AcquisitionNumber',
  'InstanceNumber',
];

function filterKey(keyword: string): QueryFilterKey {
  const definition = ATTRIBUTES_BY_KEYWORD.get(keyword);
  if (
    definition === undefined ||
    definition.level === 'ANY' ||
    definition.level === 'WORKLIST' ||
    !FILTER_VRS.has(definition.vr)
  ) {
    throw new Error(`${keyword} is not a level's key of a filterable VR in the dictionary`);
  }
  return Object.freeze({
    keyword,
    tag: definition.tag,
    vr: definition.vr as QueryFilterVr,
    level: FILTER_LEVEL_OF[definition.level],
  });
}

export const QUERY_FILTER_KEYS: ReadonlyMap<string, QueryFilterKey> = new Map(
  FILTER_KEYWORDS.map((keyword) => [keyword, filterKey(keyword)]),
);

/** Whether a key of `keyLevel` may filter a query at `level` (that level and below). */
function allowedAt(keyLevel: QueryFilterLevel, level: QueryFilterLevel): boolean {
  return keyAllowedAtLevel(LEVEL_OF[keyLevel], LEVEL_OF[level]);
}

/** The keywords a query at `level` may filter on (the allowlist), sorted. */
export function queryFilterKeywords(level: QueryFilterLevel): string[] {
  return [...QUERY_FILTER_KEYS.values()]
    .filter((key) => allowedAt(key.level, level))
    .map((key) => key.keyword)
    .sort();
}

/** The longest value of one key (the longest VR that may be matched, LO/PN component groups). */
export const MAX_QUERY_VALUE_LENGTH = 64;

/** PS3.4 C.2.2.2.4: wildcard matching applies to these VRs only (never UIDs, dates, numbers). */
const WILDCARD_VRS: ReadonlySet<QueryFilterVr> = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH']);
/** Keys whose value may be a backslash-separated list: UID list matching (C.2.2.2.2), and ModalitiesInStudy (C.6.2.1.1). */
const LIST_KEYS: ReadonlySet<string> = new Set(['ModalitiesInStudy']);

const DATE = /^(\d{4})(\d{2})(\d{2})$/;
const TIME = /^([01]\d|2[0-3])(?:([0-5]\d)(?:([0-5]\d|60)(?:\.\d{1,6})?)?)?$/;

function dateProblem(value: string): string | undefined {
  const match = DATE.exec(value);
  if (!match) return `"${value}" is not a date (YYYYMMDD)`;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return `"${value}" is not a calendar date`;
  }
  return undefined;
}

/** PS3.4 C.2.2.2.5: a value or a range `A-B`, `-B`, `A-` of dates or times. */
function rangeProblem(
  value: string,
  single: (part: string) => string | undefined,
  what: string,
): string | undefined {
  const parts = value.split('-');
  if (parts.length === 1) return single(value);
  if (parts.length > 2 || (parts[0] === '' && parts[1] === '')) {
    return `"${value}" is not a ${what} or a ${what} range (A-B, -B or A-)`;
  }
  for (const part of parts) {
    if (part === '') continue;
    const problem = single(part);
    if (problem !== undefined) return `${problem} in the range "${value}"`;
  }
  if (what === 'date' && parts[0] !== '' && parts[1] !== '' && parts[0] > parts[1]) {
    return `the range "${value}" ends before it starts`;
  }
  return undefined;
}

function vrProblem(key: QueryFilterKey, value: string): string | undefined {
  switch (key.vr) {
    case 'DA':
      return rangeProblem(value, dateProblem, 'date');
    case 'TM':
      return rangeProblem(
        value,
        (part) =>
          TIME.test(part) ? undefined : `"${part}" is not a time (HH, HHMM, HHMMSS or HHMMSS.FFFFFF)`,
        'time',
      );
    case 'UI': {
      for (const uid of value.split('\\')) {
        const problem = uidProblem(uid);
        if (problem !== undefined) {
          return `"${uid}" is not a UID (PS3.5 9.1): it ${problem} (several UIDs are separated by a backslash)`;
        }
      }
      return undefined;
    }
    case 'IS':
      return /^[+-]?\d{1,12}$/.test(value) ? undefined : `"${value}" is not an integer`;
    case 'AS':
      return /^\d{3}[DWMY]$/.test(value) ? undefined : `"${value}" is not an age (nnnD, nnnW, nnnM or nnnY)`;
    case 'CS':
      return value.split('\\').every((part) => /^[A-Z0-9_ *?]{1,16}$/.test(part))
        ? undefined
        : `"${value}" is not a code string (upper-case letters, digits, space and underscore, at most 16 characters)`;
    case 'AE':
      return value.length <= 16 && !value.includes('\\') ? undefined : `"${value}" is not an AE title`;
    case 'LO':
    case 'LT':
    case 'PN':
    case 'SH':
      return undefined;
  }
}

/**
 * Why `value` cannot be matched on `keyword` in a query at `level`, or undefined when it can.
 * The answer is a sentence without the key's name (the caller names the field).
 */
export function queryFilterProblem(
  level: QueryFilterLevel,
  keyword: string,
  value: unknown,
): string | undefined {
  const key = QUERY_FILTER_KEYS.get(keyword);
  if (key === undefined) {
    return `is not a query key; the keys a ${level}-level query may use are ${queryFilterKeywords(level).join(', ')}`;
  }
  if (!allowedAt(key.level, level)) {
    return `is a ${key.level}-level key; a ${level}-level query cannot use it`;
  }
  if (typeof value !== 'string') return 'must be a string';
  if (value === '') return 'must not be empty (an empty value matches everything: leave the key out)';
  if (value.length > MAX_QUERY_VALUE_LENGTH * (key.vr === 'UI' ? 16 : 1)) {
    return `must have at most ${MAX_QUERY_VALUE_LENGTH} characters`;
  }
  // PS3.5 6.1.3: no control characters in these values.
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters';
  if (value.includes('\\') && key.vr !== 'UI' && !LIST_KEYS.has(keyword)) {
    return 'must be one value: a backslash separates several values, which only UID list matching allows (PS3.4 C.2.2.2.2)';
  }
  if (/[*?]/.test(value) && !WILDCARD_VRS.has(key.vr)) {
    return `must not contain the wildcards * or ?: wildcard matching does not apply to ${key.vr === 'UI' ? 'UIDs' : `VR ${key.vr}`} (PS3.4 C.2.2.2.4)`;
  }
  if (
    key.vr !== 'PN' &&
    key.vr !== 'LO' &&
    key.vr !== 'LT' &&
    key.vr !== 'SH' &&
    /[^\u0020-\u007e]/.test(value)
  ) {
    return `must be ASCII (VR ${key.vr})`;
  }
  return vrProblem(key, value);
}

/**
 * The attributes every query answer carries at each level, asked for explicitly (C-FIND return keys,
 * QIDO-RS includefield) so that both protocols answer the same shape. They are QIDO-RS's default
 * attributes (PS3.18 Table 6.7.1-2) that C-FIND can return, plus the descriptions.
 */
export const QUERY_RETURN_KEYS: Readonly<Record<QueryFilterLevel, readonly string[]>> = Object.freeze({
  study: [
    'StudyInstanceUID',
    'StudyDate',
    'StudyTime',
    'AccessionNumber',
    'ModalitiesInStudy',
    'ReferringPhysicianName',
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyID',
    'StudyDescription',
    'NumberOfStudyRelatedSeries',
    'NumberOfStudyRelatedInstances',
  ],
  series: [
    'StudyInstanceUID',
    'SeriesInstanceUID',
    'Modality',
    'SeriesNumber',
    'SeriesDescription',
    'SeriesDate',
    'SeriesTime',
    'NumberOfSeriesRelatedInstances',
  ],
  instance: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'],
});
