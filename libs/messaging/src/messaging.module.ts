import { type DynamicModule, Module } from '@nestjs/common';
import { BrokerConnection } from './broker-connection';
import { ConfirmedPublisher } from './confirmed-publisher';
import { MessageConsumer } from './consumer/message-consumer';
import { MESSAGING_OPTIONS, resolveMessagingOptions, type MessagingOptions } from './messaging.options';
import { RpcClient } from './rpc/rpc-client';

@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: resolveMessagingOptions(options) },
        BrokerConnection,
        ConfirmedPublisher,
        MessageConsumer,
        RpcClient,
      ],
      exports: [BrokerConnection, ConfirmedPublisher, MessageConsumer, RpcClient],
    };
  }
}
