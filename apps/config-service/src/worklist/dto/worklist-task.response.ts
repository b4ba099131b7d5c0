import { ApiProperty } from '@nestjs/swagger';
import {
  WorklistTaskStatuses,
  type WorklistQueryResult,
  type WorklistTask,
  type WorklistTaskMpps,
  type WorklistTaskPage,
  type WorklistTaskStatus,
} from '@pacslink/contracts';

const nullableText = (description: string, example: string) =>
  ApiProperty({ type: 'string', nullable: true, description, example });

/** The task's Modality Performed Procedure Step (PS3.4 F.7), as mwl-mpps-service last saw it. */
export class WorklistTaskMppsResponse implements WorklistTaskMpps {
  @ApiProperty({
    description: "The MPPS SOP Instance UID, pacslink's own (2.25 and a UUID), kept for every N-SET.",
    example: '2.25.201847305671289453765890123456789012345',
  })
  sopInstanceUid!: string;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The MPPS SCP’s last status (0000,0900), null when no answer came.',
    example: 0,
  })
  statusCode!: number | null;
  @nullableText('That status in words, or why no answer came.', 'success') meaning!: string | null;
  @nullableText(
    'A warning’s note (a warning is a success), or the failure that left the task as it was.',
    'warning: attribute value out of range',
  )
  note!: string | null;
  @ApiProperty({ description: 'Attempts of a pending N-SET COMPLETED (status completing).', example: 0 })
  attempts!: number;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, description: 'The next attempt.' })
  nextAttemptAt!: string | null;
}

/** A scheduled procedure step of a PACS's Modality Worklist, kept as a task. */
export class WorklistTaskResponse implements WorklistTask {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) pacsConfigId!: string;
  @ApiProperty({ enum: WorklistTaskStatuses, example: 'scheduled' }) status!: WorklistTaskStatus;
  @nullableText(
    "Person Name as DICOM writes it (groups joined by '='), decoded by the answer's Specific Character Set, else by the configuration's mwlEncoding.",
    'Петров^Анна',
  )
  patientName!: string | null;
  @nullableText('Patient ID.', 'P-1001') patientId!: string | null;
  @nullableText('YYYYMMDD', '19800115') patientBirthDate!: string | null;
  @nullableText('M, F or O', 'F') patientSex!: string | null;
  @nullableText('Accession Number.', 'A1234') accessionNumber!: string | null;
  @nullableText('Requested Procedure ID.', 'RP1') requestedProcedureId!: string | null;
  @nullableText('Requested Procedure Description.', 'CT chest') requestedProcedureDescription!: string | null;
  @nullableText('Study Instance UID.', '1.2.826.0.1.3680043.8.498.1') studyInstanceUid!: string | null;
  @nullableText('Scheduled Procedure Step ID.', 'SPS1') scheduledProcedureStepId!: string | null;
  @nullableText('Scheduled Procedure Step Description.', 'CT with contrast')
  scheduledProcedureStepDescription!: string | null;
  @nullableText('Modality of the step.', 'CT') modality!: string | null;
  @nullableText('Scheduled Station AE Title.', 'CT_ROOM_1') scheduledStationAeTitle!: string | null;
  @nullableText('Scheduled Procedure Step Start Date, YYYYMMDD.', '20260315') scheduledStartDate!:
    string | null;
  @nullableText('Scheduled Procedure Step Start Time, HHMMSS as the PACS gave it.', '093000')
  scheduledStartTime!: string | null;
  @ApiProperty({
    type: [String],
    description:
      'Each value the PACS sent that could not be decoded (its bytes are not text of the character set they were read by), shown with replacement characters: check the configuration’s mwlEncoding.',
    example: [],
  })
  warnings!: string[];
  @ApiProperty({
    type: WorklistTaskMppsResponse,
    nullable: true,
    description: 'Its MPPS, once started (or an automatic completion was attempted); else null.',
  })
  mpps!: WorklistTaskMppsResponse | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When the worklist last gave this step.' })
  updatedAt!: string;
}

export class WorklistQueryResponse implements WorklistQueryResult {
  @ApiProperty({
    type: [WorklistTaskResponse],
    description:
      'The tasks of the steps the PACS answered, created scheduled or updated in place: the same step (configuration, Study Instance UID, Accession Number, Scheduled Procedure Step ID) is always the same task.',
  })
  tasks!: WorklistTaskResponse[];
  @ApiProperty({
    description:
      'Steps without Study Instance UID, Accession Number and step ID: nothing tells them apart, so they are not kept.',
    example: 0,
  })
  unidentified!: number;
}

export class WorklistTaskPageResponse implements WorklistTaskPage {
  @ApiProperty({ type: [WorklistTaskResponse] }) items!: WorklistTaskResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}
