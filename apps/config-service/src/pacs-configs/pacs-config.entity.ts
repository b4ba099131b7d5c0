import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PacsConfigType } from '@pacslink/contracts';

export const AuthMethods = ['none', 'basic', 'bearer', 'oauth2-client-credentials'] as const;
export type AuthMethod = (typeof AuthMethods)[number];

export const RetrieveMethods = ['get-then-move', 'get', 'move'] as const;
export type RetrieveMethod = (typeof RetrieveMethods)[number];

/**
 * A PACS configuration: common columns plus typed columns per type, NULL where they do not apply
 * (the migration explains the choice and enforces which are set for each type).
 */
@Entity({ name: 'pacs_config' })
export class PacsConfig {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') type!: PacsConfigType;
  @Column('text', { name: 'ae_title' }) aeTitle!: string;
  @Column('text') name!: string;
  /** Incremented by every update; the ETag is made of it. */
  @Column('int') version!: number;
  @Column('int', { name: 'timeout_ms' }) timeoutMs!: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;

  // dicomweb
  @Column('text', { nullable: true }) url!: string | null;
  @Column('boolean', { name: 'qido_rs', nullable: true }) qidoRs!: boolean | null;
  @Column('boolean', { name: 'stow_rs', nullable: true }) stowRs!: boolean | null;
  @Column('boolean', { name: 'stow_multipart_related', nullable: true }) stowMultipartRelated!:
    boolean | null;
  @Column('text', { name: 'source_ae_title', nullable: true }) sourceAeTitle!: string | null;
  @Column('text', { name: 'auth_method', nullable: true }) authMethod!: AuthMethod | null;
  @Column('text', { name: 'auth_username', nullable: true }) authUsername!: string | null;
  @Column('text', { name: 'auth_token_url', nullable: true }) authTokenUrl!: string | null;
  @Column('text', { name: 'auth_client_id', nullable: true }) authClientId!: string | null;
  @Column('text', { name: 'auth_scope', nullable: true }) authScope!: string | null;
  /** The auth method's one secret, SecretCipher-encrypted for (pacs_config, id, its field name). */
  @Column('text', { name: 'auth_secret', nullable: true }) authSecret!: string | null;

  // dimse
  @Column('text', { nullable: true }) host!: string | null;
  @Column('int', { nullable: true }) port!: number | null;
  @Column('boolean', { name: 'c_store', nullable: true }) cStore!: boolean | null;
  @Column('boolean', { name: 'query_retrieve', nullable: true }) queryRetrieve!: boolean | null;
  @Column('text', { name: 'query_ae_title', nullable: true }) queryAeTitle!: string | null;
  @Column('text', { name: 'retrieve_method', nullable: true }) retrieveMethod!: RetrieveMethod | null;
  @Column('text', { name: 'move_destination_ae_title', nullable: true }) moveDestinationAeTitle!:
    string | null;
  @Column('boolean', { nullable: true }) mwl!: boolean | null;
  @Column('text', { name: 'mwl_encoding', nullable: true }) mwlEncoding!: string | null;
  @Column('boolean', { nullable: true }) mpps!: boolean | null;
  @Column('int', { name: 'max_associations', nullable: true }) maxAssociations!: number | null;
}
