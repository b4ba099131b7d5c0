import type { PacsConfigType } from '@pacslink/contracts';
import type { FindOptionsWhere } from 'typeorm';
import type { Capability } from '../dto/list-pacs-configs.query';
import type { PacsConfig } from '../pacs-config.entity';
import { DicomwebProtocol } from './dicomweb.protocol';
import { DimseProtocol } from './dimse.protocol';
import type { CapabilitySwitch, PacsProtocol, TransferCapability } from './pacs-protocol';

const PROTOCOLS: Readonly<Record<PacsConfigType, PacsProtocol>> = {
  dimse: DimseProtocol,
  dicomweb: DicomwebProtocol,
};

/** The profile of a configuration type. */
export function protocolOf(type: PacsConfigType): PacsProtocol {
  return PROTOCOLS[type];
}

/** Whether the configuration offers the capability now (its switch is on). */
export function offers(row: PacsConfig, capability: Capability): boolean {
  const column = protocolOf(row.type).capabilitySwitches[capability];
  return column !== undefined && row[column] === true;
}

/** The switch a user turns on for the configuration to offer the capability, to name it in answers. */
export function capabilitySwitchOf(
  row: Pick<PacsConfig, 'type'>,
  capability: TransferCapability,
): CapabilitySwitch {
  return protocolOf(row.type).capabilitySwitches[capability];
}

/** The configurations offering the capability, as a TypeORM filter (any of these). */
export function offeringFilter(capability: Capability): FindOptionsWhere<PacsConfig>[] {
  return Object.values(PROTOCOLS).flatMap(({ type, capabilitySwitches }) => {
    const column = capabilitySwitches[capability];
    return column === undefined ? [] : [{ type, [column]: true }];
  });
}
