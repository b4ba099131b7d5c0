import { ApiProperty } from '@nestjs/swagger';

const UID_EXAMPLE = '1.2.826.0.1.3680043.8.498.12345678901234567890';

/** A study in the store, as listed. Text attributes are decoded per the files' Specific Character Set. */
export class StudySummaryResponse {
  @ApiProperty({ example: UID_EXAMPLE }) studyInstanceUid!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Иванов^Иван',
    description: 'PN, as in the latest instance stored',
  })
  patientName!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'P-0042' }) patientId!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '20251126', description: 'DA, YYYYMMDD' })
  studyDate!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'A123456' }) accessionNumber!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'CT chest' }) studyDescription!: string | null;
  @ApiProperty({ type: [String], example: ['CT'] }) modalities!: string[];
  @ApiProperty({ example: 2 }) seriesCount!: number;
  @ApiProperty({ example: 200 }) instanceCount!: number;
  @ApiProperty({ example: 104857600, description: 'bytes on disk, all instances' }) sizeBytes!: number;
}

export class SeriesSummaryResponse {
  @ApiProperty({ example: UID_EXAMPLE }) seriesInstanceUid!: string;
  @ApiProperty({ type: String, nullable: true, example: 'CT' }) modality!: string | null;
  @ApiProperty({ example: 100 }) instanceCount!: number;
  @ApiProperty({ example: 52428800 }) sizeBytes!: number;
}

export class StudyDetailResponse extends StudySummaryResponse {
  @ApiProperty({ type: [SeriesSummaryResponse] }) series!: SeriesSummaryResponse[];
}

export class StudyPage {
  @ApiProperty({ type: [StudySummaryResponse] }) items!: StudySummaryResponse[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
}
