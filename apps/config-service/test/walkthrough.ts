import { writeFile } from 'node:fs/promises';
import type { DicomJson } from '@pacslink/dicom';

/** Keywords of the attributes an MPPS N-CREATE / N-SET of pacslink carries (PS3.6), for reading. */
const KEYWORDS: Record<string, string> = {
  '00080005': 'SpecificCharacterSet',
  '00080050': 'AccessionNumber',
  '00080054': 'RetrieveAETitle',
  '00080060': 'Modality',
  '00081030': 'StudyDescription',
  '00081032': 'ProcedureCodeSequence',
  '0008103E': 'SeriesDescription',
  '00081050': 'PerformingPhysicianName',
  '00081070': 'OperatorsName',
  '00081110': 'ReferencedStudySequence',
  '00081120': 'ReferencedPatientSequence',
  '00081140': 'ReferencedImageSequence',
  '00081150': 'ReferencedSOPClassUID',
  '00081155': 'ReferencedSOPInstanceUID',
  '00100010': 'PatientName',
  '00100020': 'PatientID',
  '00100030': 'PatientBirthDate',
  '00100040': 'PatientSex',
  '00181030': 'ProtocolName',
  '0020000D': 'StudyInstanceUID',
  '0020000E': 'SeriesInstanceUID',
  '00200010': 'StudyID',
  '00321060': 'RequestedProcedureDescription',
  '00400007': 'ScheduledProcedureStepDescription',
  '00400008': 'ScheduledProtocolCodeSequence',
  '00400009': 'ScheduledProcedureStepID',
  '00400220': 'ReferencedNonImageCompositeSOPInstanceSequence',
  '00400241': 'PerformedStationAETitle',
  '00400242': 'PerformedStationName',
  '00400243': 'PerformedLocation',
  '00400244': 'PerformedProcedureStepStartDate',
  '00400245': 'PerformedProcedureStepStartTime',
  '00400250': 'PerformedProcedureStepEndDate',
  '00400251': 'PerformedProcedureStepEndTime',
  '00400252': 'PerformedProcedureStepStatus',
  '00400253': 'PerformedProcedureStepID',
  '00400254': 'PerformedProcedureStepDescription',
  '00400255': 'PerformedProcedureTypeDescription',
  '00400260': 'PerformedProtocolCodeSequence',
  '00400270': 'ScheduledStepAttributesSequence',
  '00400340': 'PerformedSeriesSequence',
  '00401001': 'RequestedProcedureID',
};

/** A DICOM JSON data set as `Keyword (tag) VR: values`, items indented, for a reader. */
export function readableDataSet(dataSet: DicomJson | null, indent = ''): string[] {
  const lines: string[] = [];
  for (const [tag, element] of Object.entries(dataSet ?? {})) {
    const name = `${indent}${KEYWORDS[tag] ?? '?'} (${tag.slice(0, 4)},${tag.slice(4)}) ${element.vr}`;
    const values = (element.Value ?? []) as unknown[];
    if (element.vr === 'SQ') {
      lines.push(`${name}: ${values.length} item(s)`);
      values.forEach((item, index) => {
        lines.push(`${indent}  > item ${index + 1}`);
        lines.push(...readableDataSet(item as DicomJson, `${indent}    `));
      });
    } else {
      const shown = values.map((value) =>
        typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value),
      );
      lines.push(`${name}: ${shown.length === 0 ? '(empty)' : shown.join(' \\ ')}`);
    }
  }
  return lines;
}

/**
 * A transcript of a test's run as Markdown: what was asked, what came back, what the peers
 * received. Written to the file WALKTHROUGH_OUT names when it is set, so that a document showing a
 * run is the output of one.
 */
export class Walkthrough {
  private readonly parts: string[] = [];

  constructor(
    private readonly title: string,
    private readonly intro: string,
  ) {}

  text(markdown: string): void {
    this.parts.push(markdown);
  }

  block(heading: string, body: string, language = ''): void {
    this.parts.push(`### ${heading}\n\n\`\`\`${language}\n${body.trimEnd()}\n\`\`\``);
  }

  json(heading: string, value: unknown): void {
    this.block(heading, JSON.stringify(value, null, 2), 'json');
  }

  async write(): Promise<void> {
    const out = process.env.WALKTHROUGH_OUT;
    if (out === undefined || out === '') return;
    await writeFile(out, `# ${this.title}\n\n${this.intro}\n\n${this.parts.join('\n\n')}\n`);
  }
}
