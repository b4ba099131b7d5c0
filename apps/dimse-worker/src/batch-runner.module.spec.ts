import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExportBatchRunner } from '@pacslink/export-batch';
import { ConfirmedPublisher, MessageConsumer, RpcClient } from '@pacslink/messaging';
import { METRICS_REGISTRY } from '@pacslink/platform';
import { EgressGuard } from '@pacslink/egress';
import { Registry } from 'prom-client';
import { ExportModule } from './export/export.module';
import { ImportModule } from './import/import.module';
import { ExportService } from './export/export.service';
import { ImportService } from './import/import.service';

/** What the global platform, messaging and egress modules give the feature modules; never called here. */
@Global()
@Module({
  providers: [
    { provide: METRICS_REGISTRY, useValue: new Registry() },
    { provide: RpcClient, useValue: {} },
    { provide: ConfirmedPublisher, useValue: {} },
    { provide: MessageConsumer, useValue: { on: () => undefined } },
    { provide: EgressGuard, useValue: {} },
  ],
  exports: [METRICS_REGISTRY, RpcClient, ConfirmedPublisher, MessageConsumer, EgressGuard],
})
class WorkerGlobals {}

describe('BatchRunnerModule', () => {
  it('export and import share one ExportBatchRunner: its metrics register once in the registry', async () => {
    const app = await Test.createTestingModule({
      imports: [WorkerGlobals, ExportModule.forRoot('/nonexistent'), ImportModule.forRoot('/nonexistent')],
    }).compile();
    const runner = app.get(ExportBatchRunner, { strict: false });
    // The runner each service was given (a private field).
    expect(Reflect.get(app.get(ExportService, { strict: false }), 'runner')).toBe(runner);
    expect(Reflect.get(app.get(ImportService, { strict: false }), 'runner')).toBe(runner);
    await app.close();
  });
});
