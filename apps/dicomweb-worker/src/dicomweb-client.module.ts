import { Global, Module, type OnModuleDestroy } from '@nestjs/common';
import { DicomwebClient } from '@pacslink/dicomweb';
import { EgressGuard } from '@pacslink/egress';

/**
 * The worker's one DICOMweb client (pooled connections, OAuth2 tokens) for connection tests,
 * queries and exports: every connection it opens goes through the egress guard.
 */
@Global()
@Module({
  providers: [
    {
      provide: DicomwebClient,
      useFactory: (egress: EgressGuard) => new DicomwebClient({ egress }),
      inject: [EgressGuard],
    },
  ],
  exports: [DicomwebClient],
})
export class DicomwebClientModule implements OnModuleDestroy {
  constructor(private readonly client: DicomwebClient) {}

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
