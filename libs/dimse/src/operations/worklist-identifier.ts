import {
  ATTRIBUTES_BY_KEYWORD,
  CHARSET_TEXT_VRS,
  encodeText,
  ENCODABLE_CHARACTER_SETS,
  type AttributeDefinition,
  type EncodableCharacterSet,
  type EncodableElement,
} from '@pacslink/dicom';
import { DimseError, DimseErrorCode } from '../dimse.errors';
import { checkValue } from './find-identifier';

/**
 * The keys of PS3.4 Table K.6-1 this client asks a Modality Worklist for: on the top level
 * (patient, imaging service request, requested procedure) and inside the Scheduled Procedure Step
 * Sequence's one item. Only keys the model has: a PACS may answer a key it does not know with a
 * failure, and dcmjs-dimse-style extra keys make some answer 0xFF01.
 */
export const WORKLIST_KEYWORDS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'AccessionNumber',
  'RequestedProcedureID',
  'RequestedProcedureDescription',
  'StudyInstanceUID',
] as const;

export const WORKLIST_STEP_KEYWORDS = [
  'Modality',
  'ScheduledStationAETitle',
  'ScheduledProcedureStepStartDate',
  'ScheduledProcedureStepStartTime',
  'ScheduledProcedureStepDescription',
  'ScheduledProcedureStepID',
] as const;

export type WorklistKeyword = (typeof WORKLIST_KEYWORDS)[number];
export type WorklistStepKeyword = (typeof WORKLIST_STEP_KEYWORDS)[number];

export interface WorklistIdentifierQuery {
  /** matching keys of the top level; every other worklist keyword is a return key */
  keys?: Readonly<Partial<Record<WorklistKeyword, string>>>;
  /** matching keys inside the Scheduled Procedure Step Sequence item (date ranges as C.2.2.2.5) */
  stepKeys?: Readonly<Partial<Record<WorklistStepKeyword, string>>>;
  /** the character set declared and used when a value is not ASCII (the PACS's); default ISO_IR 192 */
  queryCharset?: EncodableCharacterSet;
}

const SCHEDULED_PROCEDURE_STEP_SEQUENCE = 'ScheduledProcedureStepSequence';

function invalid(problem: string): DimseError {
  return new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
}

function definitionOf(keyword: string): AttributeDefinition {
  const definition = ATTRIBUTES_BY_KEYWORD.get(keyword);
  if (definition === undefined) throw new Error(`${keyword} is missing from the dictionary`);
  return definition;
}

function valuesOf(
  allowed: readonly string[],
  keys: Readonly<Record<string, string | undefined>>,
): { definition: AttributeDefinition; text: string }[] {
  for (const keyword of Object.keys(keys)) {
    if (!allowed.includes(keyword)) {
      throw invalid(`${keyword} is not a Modality Worklist key this client asks for at this place`);
    }
  }
  return allowed.map((keyword) => {
    const definition = definitionOf(keyword);
    const value = keys[keyword];
    return { definition, text: value === undefined ? '' : checkValue(definition, value) };
  });
}

/**
 * The C-FIND identifier for the Modality Worklist Information Model (PS3.4 K.6.1.2): every worklist
 * keyword, the Scheduled Procedure Step Sequence with one item holding the step keywords, matching
 * values where given, the rest empty (universal matching, return keys). (0008,0005) is added only
 * when a value is not ASCII; the values are then encoded in that set (dicom-peers notes trap 6).
 */
export function buildWorklistIdentifier(query: WorklistIdentifierQuery): EncodableElement[] {
  const charset = query.queryCharset ?? 'ISO_IR 192';
  if (!ENCODABLE_CHARACTER_SETS.includes(charset)) {
    throw invalid(`queryCharset must be one of ${ENCODABLE_CHARACTER_SETS.join(', ')}`);
  }
  const top = valuesOf(WORKLIST_KEYWORDS, query.keys ?? {});
  const step = valuesOf(WORKLIST_STEP_KEYWORDS, query.stepKeys ?? {});
  const needsCharset = [...top, ...step].some(({ text }) => /[^\u0000-\u007f]/.test(text));
  const declared: EncodableCharacterSet | undefined = needsCharset ? charset : undefined;
  const encoded = (values: { definition: AttributeDefinition; text: string }[]): EncodableElement[] =>
    values.map(({ definition, text }) => {
      const result = encodeText(text, CHARSET_TEXT_VRS.has(definition.vr) ? declared : undefined);
      if ('unencodable' in result) {
        throw invalid(
          `the value of ${definition.keyword} has "${result.unencodable}", which ${charset} cannot encode`,
        );
      }
      return { tag: definition.tag, vr: definition.vr, value: result.bytes };
    });
  const elements: EncodableElement[] = [
    ...encoded(top),
    {
      tag: definitionOf(SCHEDULED_PROCEDURE_STEP_SEQUENCE).tag,
      vr: 'SQ',
      value: Buffer.alloc(0),
      items: [encoded(step)],
    },
  ];
  if (declared !== undefined) {
    elements.push({ tag: '00080005', vr: 'CS', value: Buffer.from(declared, 'latin1') });
  }
  return elements;
}
