import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { PageQuery } from '../http/dto/page.dto';
import { AuditEntry } from './audit-entry.entity';
import { AuditEntryResponse, AuditPage } from './dto/audit-entry.response';
import { RequiresRole } from '../auth/requires-role.decorator';

@ApiTags('audit')
@RequiresRole('admin')
@Controller('audit')
export class AuditController {
  constructor(@InjectRepository(AuditEntry) private readonly entries: Repository<AuditEntry>) {}

  @Get()
  @ApiOkResponse({ type: AuditPage, description: 'newest first' })
  async list(@Query() page: PageQuery): Promise<AuditPage> {
    const [entries, total] = await this.entries.findAndCount({
      order: { id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
    return {
      items: entries.map((entry) => AuditEntryResponse.from(entry)),
      total,
      limit: page.limit,
      offset: page.offset,
    };
  }
}
