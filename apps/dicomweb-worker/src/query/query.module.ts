import { Module } from '@nestjs/common';
import { QueryConsumer } from './query.consumer';
import { QueryService } from './query.service';

@Module({ providers: [QueryService, QueryConsumer] })
export class QueryModule {}
