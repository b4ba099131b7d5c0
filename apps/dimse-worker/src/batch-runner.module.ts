import { Module } from '@nestjs/common';
import { ExportBatchRunner } from '@pacslink/export-batch';

/**
 * The one ExportBatchRunner of the worker process, shared by export and import: its metrics
 * (pacslink_export_*, pacslink_import_*) register once in the process's registry, and a second
 * instance would fail to start on the duplicate names.
 */
@Module({ providers: [ExportBatchRunner], exports: [ExportBatchRunner] })
export class BatchRunnerModule {}
