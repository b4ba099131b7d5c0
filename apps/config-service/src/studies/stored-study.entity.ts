import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A study in the study store: what listing shows, from the latest instance stored of it. */
@Entity({ name: 'stored_study' })
export class StoredStudy {
  @PrimaryColumn('text', { name: 'study_instance_uid' }) studyInstanceUid!: string;
  @Column('text', { name: 'patient_name', nullable: true }) patientName!: string | null;
  @Column('text', { name: 'patient_id', nullable: true }) patientId!: string | null;
  /** DA, YYYYMMDD as the file has it. */
  @Column('text', { name: 'study_date', nullable: true }) studyDate!: string | null;
  @Column('text', { name: 'accession_number', nullable: true }) accessionNumber!: string | null;
  @Column('text', { name: 'study_description', nullable: true }) studyDescription!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
