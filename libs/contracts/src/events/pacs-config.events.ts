import { IsIn, IsString, IsUUID } from 'class-validator';
import { Exchanges } from '../topology';
import type { MessageContract } from '../message-contract';

export const PacsConfigTypes = ['dicomweb', 'dimse'] as const;
export type PacsConfigType = (typeof PacsConfigTypes)[number];

/** Identifies the configuration that changed; subscribers read the rest through the REST API. */
export class PacsConfigEventData {
  @IsUUID() id!: string;
  @IsIn(PacsConfigTypes) type!: PacsConfigType;
  @IsString() aeTitle!: string;
  @IsString() name!: string;
}

function pacsConfigEvent(type: string): MessageContract<PacsConfigEventData> {
  return { type, version: 1, kind: 'event', exchange: Exchanges.Events, data: PacsConfigEventData };
}

export const PacsConfigEvents = {
  Created: pacsConfigEvent('pacs-config.created'),
  Updated: pacsConfigEvent('pacs-config.updated'),
  Deleted: pacsConfigEvent('pacs-config.deleted'),
} as const;
