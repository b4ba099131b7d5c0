import { messagingMigrations } from '@pacslink/messaging';
import { CreateAuditLog1764200000000 } from './1764200000000-CreateAuditLog';
import { CreateSettingsAndLocalAeTitles1764200000100 } from './1764200000100-CreateSettingsAndLocalAeTitles';
import { CreatePacsConfigs1764200000200 } from './1764200000200-CreatePacsConfigs';
import { CreateStudyStore1764300000000 } from './1764300000000-CreateStudyStore';
import { CreateTransfers1764300000100 } from './1764300000100-CreateTransfers';
import { AddPeopleAndEventTickets1764400000000 } from './1764400000000-AddPeopleAndEventTickets';
import { AddTransferBatchClaims1764500000000 } from './1764500000000-AddTransferBatchClaims';
import { DropTransferInstancePath1764500000100 } from './1764500000100-DropTransferInstancePath';
import { AddEventTicketCredentialExpiry1764600000000 } from './1764600000000-AddEventTicketCredentialExpiry';
import { AddPacsCircuits1764700000300 } from './1764700000300-AddPacsCircuits';
import { AddImportTransfers1764800000000 } from './1764800000000-AddImportTransfers';
import { AddTransferMetricsIndexes1764900000500 } from './1764900000500-AddTransferMetricsIndexes';
import { AddTransferTraceContext1765200000100 } from './1765200000100-AddTransferTraceContext';
import { AddTransferBatchHeldClaims1765300000000 } from './1765300000000-AddTransferBatchHeldClaims';

/** Every migration of config-service's schema, oldest first. Append only. */
export const configServiceMigrations = [
  ...messagingMigrations,
  CreateAuditLog1764200000000,
  CreateSettingsAndLocalAeTitles1764200000100,
  CreatePacsConfigs1764200000200,
  CreateStudyStore1764300000000,
  CreateTransfers1764300000100,
  AddPeopleAndEventTickets1764400000000,
  AddTransferBatchClaims1764500000000,
  DropTransferInstancePath1764500000100,
  AddEventTicketCredentialExpiry1764600000000,
  AddPacsCircuits1764700000300,
  AddImportTransfers1764800000000,
  AddTransferMetricsIndexes1764900000500,
  AddTransferTraceContext1765200000100,
  AddTransferBatchHeldClaims1765300000000,
];
