import { DimseError, DimseErrorCode } from '../dimse.errors';
import {
  ATTRIBUTES_BY_KEYWORD,
  CHARSET_TEXT_VRS,
  encodeText,
  ENCODABLE_CHARACTER_SETS,
  isValidUid,
  keyAllowedAtLevel,
  UNIQUE_KEY,
  type AttributeDefinition,
  type EncodableCharacterSet,
  type EncodableElement,
  type QueryLevel,
} from '@pacslink/dicom';

export interface FindIdentifierQuery {
  level: QueryLevel;
  /** matching keys: DICOM keyword → value (wildcards, ranges and UID lists as PS3.4 C.2.2.2 allows) */
  keys: Readonly<Record<string, string>>;
  /** return keys: DICOM keywords sent empty (universal matching) */
  returnKeys: readonly string[];
  /** the character set declared and used when a value is not ASCII; default ISO_IR 192 */
  queryCharset?: EncodableCharacterSet;
}

const SET_BY_THIS_LIBRARY = new Set(['QueryRetrieveLevel', 'SpecificCharacterSet']);
const LEVELS: readonly QueryLevel[] = ['STUDY', 'SERIES', 'IMAGE'];

function invalid(problem: string): DimseError {
  return new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
}

/** The keywords a query at `level` may use (the allowlist), sorted. */
export function queryKeywords(level: QueryLevel): string[] {
  return [...ATTRIBUTES_BY_KEYWORD.values()]
    .filter((definition) => !SET_BY_THIS_LIBRARY.has(definition.keyword))
    .filter((definition) => keyAllowedAtLevel(definition.level, level))
    .map((definition) => definition.keyword)
    .sort();
}

function definitionOf(keyword: string, level: QueryLevel): AttributeDefinition {
  if (SET_BY_THIS_LIBRARY.has(keyword)) throw invalid(`${keyword} is set by the library, not by the caller`);
  const definition = ATTRIBUTES_BY_KEYWORD.get(keyword);
  if (definition === undefined) {
    throw invalid(`${keyword} is not a query key this client knows (see queryKeywords('${level}'))`);
  }
  if (!keyAllowedAtLevel(definition.level, level)) {
    throw invalid(`${keyword} is a ${definition.level}-level key; a ${level}-level query cannot use it`);
  }
  return definition;
}

/** A matching key's value as PS3.4 C.2.2.2 and PS3.5 6.1.3 allow it, or INVALID_REQUEST naming it. */
export function checkValue(definition: AttributeDefinition, value: unknown): string {
  const { keyword, vr } = definition;
  if (typeof value !== 'string') throw invalid(`the value of ${keyword} must be a string`);
  // PS3.5 6.1.3: no control characters in these values (ESC only inside ISO 2022, not produced here)
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw invalid(`the value of ${keyword} contains a control character`);
  if (vr === 'SQ' && value !== '')
    throw invalid(`${keyword} is a sequence: only universal matching ('') is supported`);
  if (vr === 'UI' && value !== '' && !value.split('\\').every(isValidUid)) {
    throw invalid(`the value of ${keyword} is not a UID or a backslash-separated list of UIDs`);
  }
  if (!CHARSET_TEXT_VRS.has(vr) && /[^\u0020-\u007e]/.test(value)) {
    throw invalid(`the value of ${keyword} (VR ${vr}) must be ASCII`);
  }
  return value;
}

/**
 * The C-FIND identifier for a Study Root query: QueryRetrieveLevel, the level's unique key, the
 * matching keys and the return keys, nothing else (dcmjs-dimse's createStudyFindRequest() adds a
 * dozen keys that make some PACS answer 0xFF01, dicom-peers notes trap 12). (0008,0005) is added
 * only when a value is not ASCII; the values are then encoded in that set by this library (trap 6).
 */
export function buildFindIdentifier(query: FindIdentifierQuery): EncodableElement[] {
  if (!LEVELS.includes(query.level)) throw invalid(`level must be one of ${LEVELS.join(', ')}`);
  const charset = query.queryCharset ?? 'ISO_IR 192';
  if (!ENCODABLE_CHARACTER_SETS.includes(charset)) {
    throw invalid(`queryCharset must be one of ${ENCODABLE_CHARACTER_SETS.join(', ')}`);
  }
  const values = new Map<string, { definition: AttributeDefinition; text: string }>();
  const uniqueKey = UNIQUE_KEY[query.level];
  values.set(uniqueKey, { definition: definitionOf(uniqueKey, query.level), text: '' });
  for (const keyword of query.returnKeys) {
    if (typeof keyword !== 'string') throw invalid('returnKeys must be DICOM keywords');
    values.set(keyword, { definition: definitionOf(keyword, query.level), text: '' });
  }
  for (const [keyword, value] of Object.entries(query.keys)) {
    const definition = definitionOf(keyword, query.level);
    values.set(keyword, { definition, text: checkValue(definition, value) });
  }

  const needsCharset = [...values.values()].some(({ text }) => /[^\u0000-\u007f]/.test(text));
  const declared: EncodableCharacterSet | undefined = needsCharset ? charset : undefined;
  const elements: EncodableElement[] = [
    { tag: '00080052', vr: 'CS', value: Buffer.from(query.level, 'latin1') },
  ];
  if (declared !== undefined)
    elements.push({ tag: '00080005', vr: 'CS', value: Buffer.from(declared, 'latin1') });
  for (const { definition, text } of values.values()) {
    const encoded = encodeText(text, CHARSET_TEXT_VRS.has(definition.vr) ? declared : undefined);
    if ('unencodable' in encoded) {
      throw invalid(
        `the value of ${definition.keyword} has "${encoded.unencodable}", which ${charset} cannot encode`,
      );
    }
    elements.push({ tag: definition.tag, vr: definition.vr, value: encoded.bytes });
  }
  return elements;
}
