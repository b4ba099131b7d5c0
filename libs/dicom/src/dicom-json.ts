/**
 * The DICOM JSON Model (PS3.18 F.2): one type set for every library that writes it (libs/dimse's
 * C-FIND answers, through toDicomJson) or reads it (libs/dicomweb's QIDO-RS and STOW-RS answers).
 */

/** PS3.18 F.2.2: a Person Name value's component groups. */
export interface DicomJsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export type DicomJsonValue = string | number | DicomJsonPersonName | DicomJson | null;

/**
 * PS3.18 F.2.2: one attribute; `vr` is always present, at most one of the value forms. `vr` is a
 * string, not a ValueRepresentation: a server may answer with a VR newer than this library.
 */
export interface DicomJsonAttribute {
  vr: string;
  /** absent when the attribute is present without a value (PS3.18 F.2.5) */
  Value?: DicomJsonValue[];
  BulkDataURI?: string;
  /** base64 of a binary value (OB, OW, UN, ...) */
  InlineBinary?: string;
}

/** PS3.18 F.2: a data set keyed by 8 hex digit tags (`0020000D`). */
export type DicomJson = Record<string, DicomJsonAttribute>;

const TAG = /^[0-9A-Fa-f]{8}$/;
const VR = /^[A-Z]{2}$/;
const MAX_DEPTH = 16;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 3);
    return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.join(', ')}`;
  }
  return `a ${typeof value}`;
}

function datasetProblem(value: unknown, where: string, depth: number): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `${where} is ${describe(value)}, not a dataset`;
  }
  for (const [key, attribute] of Object.entries(value)) {
    if (!TAG.test(key)) return `${where} has key "${key.slice(0, 32)}", not an 8-hex-digit tag`;
    if (typeof attribute !== 'object' || attribute === null || Array.isArray(attribute)) {
      return `${where} attribute ${key} is ${describe(attribute)}`;
    }
    const { vr, Value } = attribute as { vr?: unknown; Value?: unknown };
    if (typeof vr !== 'string' || !VR.test(vr)) return `${where} attribute ${key} has no valid vr`;
    if (Value === undefined) continue;
    if (!Array.isArray(Value)) return `${where} attribute ${key} has a Value that is not an array`;
    if (vr === 'SQ') {
      if (depth >= MAX_DEPTH) return `${where} nests sequences deeper than ${MAX_DEPTH}`;
      for (const [index, item] of Value.entries()) {
        const problem = datasetProblem(item, `${where} ${key}[${index}]`, depth + 1);
        if (problem !== undefined) return problem;
      }
    }
  }
  return undefined;
}

/**
 * Why `value` is not a DICOM JSON answer (an array of datasets, PS3.18 F.2), or undefined when it
 * is. Checks every dataset and every sequence item, so callers may trust the type afterwards.
 */
export function dicomJsonProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return `expected an array of datasets, got ${describe(value)}`;
  for (const [index, item] of value.entries()) {
    const problem = datasetProblem(item, `item ${index}`, 0);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export function isDicomJsonArray(value: unknown): value is DicomJson[] {
  return dicomJsonProblem(value) === undefined;
}

/** Normalizes `0020000d`, `(0020,000D)` or `0020,000D` to `0020000D`; undefined when it is no tag. */
export function normalizeTag(tag: string): string | undefined {
  const compact = tag.replace(/^\((.*)\)$/, '$1').replace(',', '');
  return TAG.test(compact) ? compact.toUpperCase() : undefined;
}

function lookup(dataset: DicomJson, tag: string): DicomJsonAttribute | undefined {
  const key = normalizeTag(tag) ?? tag;
  return dataset[key] ?? dataset[key.toLowerCase()];
}

/**
 * The values of an attribute as text: strings as they are, numbers in decimal, a Person Name as its
 * Alphabetic group. Trailing spaces are trimmed: servers such as Orthanc pad PN values to even length.
 */
export function dicomJsonStrings(dataset: DicomJson, tag: string): string[] {
  const values = lookup(dataset, tag)?.Value ?? [];
  return values.flatMap((value) => {
    if (typeof value === 'string') return [value.trimEnd()];
    if (typeof value === 'number') return [String(value)];
    if (value !== null && typeof value === 'object' && 'Alphabetic' in value) {
      return typeof value.Alphabetic === 'string' ? [value.Alphabetic.trimEnd()] : [];
    }
    return [];
  });
}

/** The first value of an attribute as text (see {@link dicomJsonStrings}). */
export function dicomJsonString(dataset: DicomJson, tag: string): string | undefined {
  return dicomJsonStrings(dataset, tag)[0];
}
