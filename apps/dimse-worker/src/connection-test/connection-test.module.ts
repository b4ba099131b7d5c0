import { Module } from '@nestjs/common';
import { ConnectionTestConsumer } from './connection-test.consumer';
import { ConnectionTestService } from './connection-test.service';

@Module({ providers: [ConnectionTestService, ConnectionTestConsumer] })
export class ConnectionTestModule {}
