import { Module } from '@nestjs/common';
import { EgressAudit } from './egress-audit';

@Module({ providers: [EgressAudit], exports: [EgressAudit] })
export class EgressAuditModule {}
