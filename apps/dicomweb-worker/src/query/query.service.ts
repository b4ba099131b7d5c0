import { Injectable } from '@nestjs/common';
import type { DicomwebQueryData, QueryResult } from '@pacslink/contracts';
import { QUERY_FILTER_KEYS, type DicomJson } from '@pacslink/dicom';
import { DicomwebClient, type DicomwebAuth } from '@pacslink/dicomweb';
import { SecretCipher } from '@pacslink/secrets';
import { unsealAuth } from '../credentials/sealed-auth';

/**
 * A matching value as QIDO-RS takes it: several values (UID list matching, ModalitiesInStudy) are
 * separated by commas in a URL, not by the backslash of DIMSE (PS3.18 8.3.4.1).
 */
function qidoValue(keyword: string, value: string): string {
  const key = QUERY_FILTER_KEYS.get(keyword);
  return key?.vr === 'UI' || keyword === 'ModalitiesInStudy' ? value.split('\\').join(',') : value;
}

/**
 * PN values trimmed, in sequences too, as the DIMSE answers are: Orthanc pads them to even length
 * with a trailing space (dicom-peers notes, trap 5).
 */
export function trimPersonNames(dataset: DicomJson): DicomJson {
  for (const attribute of Object.values(dataset)) {
    if (attribute.vr === 'PN') {
      attribute.Value = attribute.Value?.map((value) => {
        if (value === null || typeof value !== 'object') return value;
        return Object.fromEntries(
          Object.entries(value).map(([group, text]) => [
            group,
            typeof text === 'string' ? text.trim() : text,
          ]),
        );
      });
    } else if (attribute.vr === 'SQ') {
      for (const item of attribute.Value ?? []) {
        if (item !== null && typeof item === 'object') trimPersonNames(item as DicomJson);
      }
    }
  }
  return dataset;
}

/** The contract's query over DICOMweb: one QIDO-RS search, the secret unsealed just before use. */
@Injectable()
export class QueryService {
  constructor(
    private readonly cipher: SecretCipher,
    private readonly client: DicomwebClient,
  ) {}

  async query(data: DicomwebQueryData): Promise<QueryResult> {
    let auth: DicomwebAuth;
    try {
      auth = unsealAuth(this.cipher, data);
    } catch (error) {
      throw new Error(
        `the credentials could not be used: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const filters = Object.fromEntries(
      Object.entries(data.filters).map(([keyword, value]) => [keyword, qidoValue(keyword, value)]),
    );
    // A DicomwebError's message is in plain words and never carries a secret or a query value.
    const results = await this.client.qido(
      {
        url: data.url,
        auth,
        pacsAeTitle: data.pacsAeTitle,
        sourceAeTitle: data.sourceAeTitle,
        timeoutMs: data.timeoutMs,
      },
      {
        level: data.level,
        filters,
        limit: data.limit,
        offset: data.offset,
        includefield: data.includefield,
      },
    );
    return { results: results.map(trimPersonNames) };
  }
}
