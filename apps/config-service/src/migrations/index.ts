import { messagingMigrations } from '@pacslink/messaging';
import { CreateAuditLog1764200000000 } from './1764200000000-CreateAuditLog';
import { CreateSettingsAndLocalAeTitles1764200000100 } from './1764200000100-CreateSettingsAndLocalAeTitles';
import { CreatePacsConfigs1764200000200 } from './1764200000200-CreatePacsConfigs';
import { CreateStudyStore1764300000000 } from './1764300000000-CreateStudyStore';
import { CreateTransfers1764300000100 } from './1764300000100-CreateTransfers';
import { AddPeopleAndEventTickets1764400000000 } from './1764400000000-AddPeopleAndEventTickets';
import { AddTransferBatchClaims1764500000000 } from './1764500000000-AddTransferBatchClaims';

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
];
