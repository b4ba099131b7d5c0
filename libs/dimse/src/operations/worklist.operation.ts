import { parseDataset, toDicomJson, type DicomJson } from '@pacslink/dicom';
import type { DimseConnectionOptions, DimseLogger } from '../dimse.options';
import { SopClassUid } from '../protocol/uids';
import { findMatches, unsupportedCharsetWarning, type FindControls } from './find.operation';
import { buildWorklistIdentifier, type WorklistIdentifierQuery } from './worklist-identifier';

export interface WorklistQuery extends WorklistIdentifierQuery, FindControls {}

/** One worklist answer: its DICOM JSON and the text values that could not be decoded. */
export interface WorklistMatch {
  dataset: DicomJson;
  /**
   * Tag paths (a sequence's tag, then the tag in its item) of the values whose bytes are not text
   * of the set that decoded them; they stay in `dataset` as decoded, replacement characters included.
   */
  undecodable: string[][];
  /**
   * The (0008,0005) terms of an answer that declares a set this library cannot decode: its text was
   * read by the fallback instead, which the caller must say.
   */
  unsupportedCharset?: string[];
}

/**
 * One worklist answer as DICOM JSON, with what could not be read as text: values by tag path, and
 * the declared set this library does not know (its text then read by the fallback).
 */
export function decodeWorklistMatch(
  bytes: Buffer,
  explicitVr: boolean,
  query: Pick<FindControls, 'fallbackCharset'>,
  logger?: DimseLogger,
): WorklistMatch {
  const undecodable: string[][] = [];
  let unsupportedCharset: string[] | undefined;
  const warn = unsupportedCharsetWarning(query, logger);
  const dataset = toDicomJson(parseDataset(bytes, explicitVr), {
    fallbackCharset: query.fallbackCharset,
    onUnsupportedCharset: (terms) => {
      unsupportedCharset = [...terms];
      warn(terms);
    },
    onUndecodable: (path) => undecodable.push([...path]),
  });
  return { dataset, undecodable, ...(unsupportedCharset ? { unsupportedCharset } : {}) };
}

/**
 * Modality Worklist Information Model FIND (PS3.4 K.6.1): one association, one C-FIND with the
 * worklist keys, every match as DICOM JSON. Text is decoded by the answer's own (0008,0005), else
 * by `fallbackCharset` (the PACS's configured encoding: DCMTK wlmscpfs never declares one), in
 * sequence items too; a value that is not text of that set is reported, never silently replaced.
 */
export async function findWorklist(
  options: DimseConnectionOptions,
  query: WorklistQuery,
): Promise<WorklistMatch[]> {
  const identifier = buildWorklistIdentifier(query);
  const { value, elapsedMs } = await findMatches(options, query, {
    sopClassUid: SopClassUid.ModalityWorklistInformationModelFind,
    identifier,
    decode: (bytes, explicitVr) => decodeWorklistMatch(bytes, explicitVr, query, options.logger),
  });
  options.logger?.debug({
    msg: 'worklist C-FIND complete',
    keys: [...Object.keys(query.keys ?? {}), ...Object.keys(query.stepKeys ?? {})],
    matches: value.length,
    elapsedMs,
  });
  return value;
}
