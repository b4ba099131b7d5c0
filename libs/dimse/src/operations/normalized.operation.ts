import {
  DatasetParseError,
  dicomJsonElements,
  DicomJsonEncodeError,
  encodeDataset,
  isValidUid,
  parseDataset,
  quotePeerText,
  toDicomJson,
  type DicomJson,
  type EncodableElement,
} from '@pacslink/dicom';
import { exchangeOnOwnAssociation, ExchangeFailure, nextResponse } from '../association/request-exchange';
import { DimseError, DimseErrorCode } from '../dimse.errors';
import type { DimseConnectionOptions } from '../dimse.options';
import { statusClass, statusMeaning } from '../protocol/status';
import { TransferSyntaxUid } from '../protocol/uids';
import { CommandField, encodeNCreateRq, encodeNSetRq } from '../store/command-set';

/** What an N-CREATE or N-SET that the peer carried out answered: success, or a warning. */
export interface NormalizedResult {
  status: 'success' | 'warning';
  /** (0000,0900): 0x0000, or a warning (0x0001, 0x0107, 0x0116, 0xBxxx) */
  statusCode: number;
  /** the status in words, e.g. 'warning: attribute value out of range' */
  meaning: string;
  /** (0000,1000) Affected SOP Instance UID of the response, else the instance asked for */
  sopInstanceUid: string;
  /** (0000,0902): the peer's own words; may name the patient, so not for logs */
  errorComment?: string;
  /** (0000,1005) and (0000,0901): the attributes a warning is about, as DICOM JSON keys */
  attributes?: string[];
  /** the data set of the response (PS3.7 10.1.5.1.6, 10.1.3.1.6): attributes the peer set or changed */
  attributeList?: DicomJson;
  elapsedMs: number;
}

interface NormalizedRequest {
  command: 'N-CREATE' | 'N-SET';
  sopClassUid: string;
  sopInstanceUid: string;
  /** N-CREATE: the Attribute List; N-SET: the Modification List (PS3.18 F.2) */
  dataSet: DicomJson;
}

const MESSAGE_ID = 1;

function invalid(problem: string): DimseError {
  return new DimseError(DimseErrorCode.INVALID_REQUEST, problem);
}

/** The data set's elements, checked and their text encoded before any connection is made. */
function requestElements(request: NormalizedRequest): EncodableElement[] {
  for (const [field, uid] of [
    ['sopClassUid', request.sopClassUid],
    ['sopInstanceUid', request.sopInstanceUid],
  ] as const) {
    if (typeof uid !== 'string' || !isValidUid(uid)) throw invalid(`${field} must be a UID (PS3.5 9.1)`);
  }
  const what = request.command === 'N-CREATE' ? 'dataSet' : 'modifications';
  if (typeof request.dataSet !== 'object' || request.dataSet === null || Array.isArray(request.dataSet)) {
    throw invalid(`${what} must be a DICOM JSON data set (PS3.18 F.2)`);
  }
  if (request.command === 'N-SET' && Object.keys(request.dataSet).length === 0) {
    throw invalid('modifications must change at least one attribute');
  }
  // Groups 0000-0002 are the command and the file meta information, never a data set's.
  const misplaced = Object.keys(request.dataSet).find((tag) => /^000[0-2]/.test(tag));
  if (misplaced !== undefined) throw invalid(`${what} holds ${misplaced}, a command or file meta element`);
  try {
    return dicomJsonElements(request.dataSet);
  } catch (error) {
    if (error instanceof DicomJsonEncodeError) throw invalid(`${what} ${error.message}`);
    throw error;
  }
}

/**
 * One N-CREATE or N-SET (PS3.7 10.1.5, 10.1.3) on an association of its own: the request and its
 * data set, in whichever of Implicit and Explicit VR Little Endian the peer accepted, then the one
 * response. Success and warnings resolve; a failure status rejects STATUS_FAILURE with the status,
 * its Error Comment and the attributes it names. The association is released.
 */
async function normalizedRequest(
  options: DimseConnectionOptions,
  request: NormalizedRequest,
): Promise<NormalizedResult> {
  const elements = requestElements(request);
  const { command, sopClassUid, sopInstanceUid } = request;
  const { value, elapsedMs } = await exchangeOnOwnAssociation(options, {
    command,
    abstractSyntaxUid: sopClassUid,
    run: async (association, context) => {
      const explicitVr = context.transferSyntaxUid !== TransferSyntaxUid.ImplicitVRLittleEndian;
      association.keepDatasets();
      // N-SET always has modifications (checked above); an N-CREATE may have no attributes at all.
      const withDataSet = elements.length > 0;
      const header =
        command === 'N-CREATE'
          ? encodeNCreateRq({
              sopClassUid,
              sopInstanceUid,
              messageId: MESSAGE_ID,
              withAttributeList: withDataSet,
            })
          : encodeNSetRq({ sopClassUid, sopInstanceUid, messageId: MESSAGE_ID });
      const buffers: Buffer[] = [];
      association.pDataBuffers(context.id, true, header, true, buffers);
      if (withDataSet) {
        association.pDataBuffers(context.id, false, encodeDataset(elements, explicitVr), true, buffers);
      }
      association.write(buffers);

      const responseField = command === 'N-CREATE' ? CommandField.NCreateRsp : CommandField.NSetRsp;
      const response = await nextResponse(association, responseField, MESSAGE_ID);
      const dataSet = response.dataSetPresent ? await association.nextDataset() : undefined;
      // PS3.7 10.1.5.1.4, 10.1.3.1.4: the response is about the instance requested; one about
      // another would have the caller record (and later N-SET) an instance the peer did not touch.
      const answered = response.affectedSopInstanceUid;
      if (answered !== undefined && answered !== sopInstanceUid) {
        const detail = `the ${command}-RSP is about SOP instance ${quotePeerText(answered, 64)}, not ${sopInstanceUid}, the one requested`;
        throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, true);
      }
      const attributes = [...(response.offendingElements ?? []), ...(response.attributeIdentifiers ?? [])];
      const { status, errorComment } = response;
      const outcome = statusClass(status);
      if (outcome !== 'success' && outcome !== 'warning') {
        throw new ExchangeFailure(
          { kind: 'status', status, errorComment, ...(attributes.length === 0 ? {} : { attributes }) },
          true,
        );
      }
      let attributeList: DicomJson | undefined;
      if (dataSet !== undefined) {
        try {
          attributeList = toDicomJson(parseDataset(dataSet.bytes, explicitVr));
        } catch (error) {
          if (!(error instanceof DatasetParseError)) throw error;
          const detail = `unreadable ${command}-RSP attribute list: ${error.message}`;
          throw new ExchangeFailure({ kind: 'protocol', phase: 'response', detail }, true);
        }
      }
      const result: Omit<NormalizedResult, 'elapsedMs'> = {
        status: outcome,
        statusCode: status,
        meaning: statusMeaning(status),
        sopInstanceUid,
        ...(errorComment === undefined ? {} : { errorComment }),
        ...(attributes.length === 0 ? {} : { attributes }),
        ...(attributeList === undefined ? {} : { attributeList }),
      };
      return { value: result };
    },
  });
  options.logger?.debug({
    msg: `${command} complete`,
    sopClassUid,
    status: value.statusCode,
    elapsedMs,
  });
  return { ...value, elapsedMs };
}

export interface NCreateRequest {
  /** e.g. Modality Performed Procedure Step, 1.2.840.10008.3.1.2.3.3 (PS3.4 F.7) */
  sopClassUid: string;
  /** the new instance's UID, chosen by the caller (PS3.4 F.7.2.1.1: the SCU gives it for MPPS) */
  sopInstanceUid: string;
  /** the Attribute List, with (0008,0005) when any text is not ASCII */
  dataSet: DicomJson;
}

export interface NSetRequest {
  sopClassUid: string;
  /** the instance to change, as created by an N-CREATE */
  sopInstanceUid: string;
  /** the Modification List, with (0008,0005) when any text is not ASCII */
  modifications: DicomJson;
}

/** N-CREATE (PS3.7 10.1.5): creates `sopInstanceUid` of `sopClassUid` with `dataSet`'s attributes. */
export function nCreate(options: DimseConnectionOptions, request: NCreateRequest): Promise<NormalizedResult> {
  return normalizedRequest(options, { command: 'N-CREATE', ...request });
}

/** N-SET (PS3.7 10.1.3): changes `modifications`' attributes of an instance the peer holds. */
export function nSet(options: DimseConnectionOptions, request: NSetRequest): Promise<NormalizedResult> {
  const { modifications, ...identity } = request;
  return normalizedRequest(options, { command: 'N-SET', ...identity, dataSet: modifications });
}
