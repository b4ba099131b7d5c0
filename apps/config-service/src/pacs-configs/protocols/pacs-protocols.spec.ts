import { randomBytes } from 'node:crypto';
import {
  ConnectionTestRequests,
  ExportBatchCommands,
  ImportBatchCommands,
  QueryRequests,
  WorklistRequests,
} from '@pacslink/contracts';
import { SecretCipher } from '@pacslink/secrets';
import { PacsConfig } from '../pacs-config.entity';
import { DICOMWEB_PARALLEL_BATCHES } from './dicomweb.protocol';
import { capabilitySwitchOf, offeringFilter, offers, protocolOf } from './pacs-protocols';

const dimse = (columns: Partial<PacsConfig> = {}): PacsConfig =>
  Object.assign(new PacsConfig(), {
    id: '0b4b7a52-8b53-4f0e-9d6e-3b7f0b1c2d3e',
    type: 'dimse',
    aeTitle: 'ORTHANC',
    timeoutMs: 30_000,
    host: 'pacs.example.org',
    port: 4242,
    cStore: true,
    queryRetrieve: false,
    mwl: false,
    maxAssociations: 3,
    ...columns,
  });

const dicomweb = (columns: Partial<PacsConfig> = {}): PacsConfig =>
  Object.assign(new PacsConfig(), {
    id: '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
    type: 'dicomweb',
    aeTitle: 'WEBPACS',
    timeoutMs: 30_000,
    url: 'https://user:pw@pacs.example.org/dicom-web?token=abc',
    qidoRs: true,
    stowRs: false,
    stowMultipartRelated: null,
    sourceAeTitle: null,
    authMethod: 'none',
    authUsername: null,
    authTokenUrl: null,
    authClientId: null,
    authScope: null,
    authSecret: null,
    ...columns,
  });

const batch = {
  transferId: '11111111-2222-4333-8444-555555555555',
  batchId: '66666666-7777-4888-9999-aaaaaaaaaaaa',
  attempt: 2,
  instances: [
    {
      sopInstanceUid: '1.2.3.4',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      path: 'a/b.dcm',
      sizeBytes: 10,
    },
  ],
};
const context = {
  cipher: new SecretCipher(randomBytes(32)),
  defaultCallingAeTitle: 'PACSLINK',
  studyInstanceUid: '1.2.3',
};

describe('PACS protocols: what differs between DIMSE and DICOMweb configurations', () => {
  it('offers a capability only while the protocol has it and its switch is on', () => {
    expect(offers(dimse(), 'export')).toBe(true);
    expect(offers(dimse(), 'import')).toBe(false);
    expect(offers(dimse({ queryRetrieve: true }), 'import')).toBe(true);
    expect(offers(dimse({ mwl: true }), 'worklist')).toBe(true);
    expect(offers(dimse({ cStore: null }), 'export')).toBe(false);
    expect(offers(dicomweb(), 'import')).toBe(true);
    expect(offers(dicomweb(), 'export')).toBe(false);
    expect(offers(dicomweb({ stowRs: true }), 'export')).toBe(true);
    // DICOMweb has no worklist, whatever its columns say.
    expect(offers(dicomweb({ mwl: true }), 'worklist')).toBe(false);
  });

  it('names the switch that turns a capability on', () => {
    expect(capabilitySwitchOf(dimse(), 'export')).toBe('cStore');
    expect(capabilitySwitchOf(dimse(), 'import')).toBe('queryRetrieve');
    expect(capabilitySwitchOf(dicomweb(), 'export')).toBe('stowRs');
    expect(capabilitySwitchOf(dicomweb(), 'import')).toBe('qidoRs');
  });

  it('filters the configurations offering a capability, per protocol', () => {
    expect(offeringFilter('import')).toEqual(
      expect.arrayContaining([
        { type: 'dimse', queryRetrieve: true },
        { type: 'dicomweb', qidoRs: true },
      ]),
    );
    expect(offeringFilter('import')).toHaveLength(2);
    expect(offeringFilter('export')).toEqual(
      expect.arrayContaining([
        { type: 'dimse', cStore: true },
        { type: 'dicomweb', stowRs: true },
      ]),
    );
    expect(offeringFilter('export')).toHaveLength(2);
    expect(offeringFilter('worklist')).toEqual([{ type: 'dimse', mwl: true }]);
  });

  it('runs one batch per association of a DIMSE PACS (one when unset), four at once for DICOMweb', () => {
    expect(protocolOf('dimse').batchSlots(dimse())).toBe(3);
    expect(protocolOf('dimse').batchSlots(dimse({ maxAssociations: null }))).toBe(1);
    expect(protocolOf('dicomweb').batchSlots(dicomweb())).toBe(DICOMWEB_PARALLEL_BATCHES);
    expect(DICOMWEB_PARALLEL_BATCHES).toBe(4);
  });

  it('exports by C-STORE to dimse-worker and by STOW-RS to dicomweb-worker', () => {
    expect(protocolOf('dimse')).toMatchObject({ exportMethod: 'C-STORE', worker: 'dimse-worker' });
    expect(protocolOf('dicomweb')).toMatchObject({ exportMethod: 'STOW-RS', worker: 'dicomweb-worker' });
  });

  it('sends a DIMSE batch as dimse.export-batch, calling from the default calling AE title', () => {
    const { contract, data } = protocolOf('dimse').exportBatchCommand(dimse(), batch, context);
    expect(contract).toBe(ExportBatchCommands.Dimse);
    expect(data).toEqual({
      ...batch,
      target: {
        host: 'pacs.example.org',
        port: 4242,
        calledAeTitle: 'ORTHANC',
        timeoutMs: 30_000,
        callingAeTitle: 'PACSLINK',
      },
    });
  });

  it('sends a DICOMweb batch as dicomweb.export-batch with its study and multipart/related unless switched off', () => {
    const row = dicomweb({ url: 'https://pacs.example.org/dicom-web' });
    const { contract, data } = protocolOf('dicomweb').exportBatchCommand(row, batch, context);
    expect(contract).toBe(ExportBatchCommands.Dicomweb);
    expect(data).toEqual({
      ...batch,
      target: {
        url: 'https://pacs.example.org/dicom-web',
        pacsAeTitle: 'WEBPACS',
        auth: { method: 'none', secretContextId: row.id },
        timeoutMs: 30_000,
      },
      multipart: true,
      studyInstanceUid: '1.2.3',
    });
    const single = protocolOf('dicomweb').exportBatchCommand(
      dicomweb({ stowMultipartRelated: false }),
      batch,
      context,
    );
    expect(single.data).toMatchObject({ multipart: false });
  });

  describe('imports', () => {
    const importContext = { cipher: context.cipher, defaultCallingAeTitle: 'PACSLINK' };
    const plan = {
      transferId: batch.transferId,
      batchId: batch.batchId,
      attempt: 1,
      studyInstanceUid: '1.2.3',
    };
    const retrieve = {
      ...plan,
      instances: [
        { sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.9', sopClassUid: '1.2.840.10008.5.1.4.1.1.2' },
      ],
      wholeSeries: ['1.2.3.9'],
    };
    const moving = (columns: Partial<PacsConfig>) =>
      dimse({
        queryRetrieve: true,
        retrieveMethod: 'get-then-move',
        moveDestinationAeTitle: 'PACSLINK_SCP',
        ...columns,
      });
    const dimseTarget = {
      host: 'pacs.example.org',
      port: 4242,
      calledAeTitle: 'ORTHANC',
      timeoutMs: 30_000,
      callingAeTitle: 'PACSLINK',
    };

    it('starts a DIMSE import with C-GET unless the configuration retrieves by C-MOVE only; DICOMweb with WADO-RS', () => {
      expect(protocolOf('dimse').importMethod(moving({ retrieveMethod: 'get-then-move' }))).toBe('C-GET');
      expect(protocolOf('dimse').importMethod(moving({ retrieveMethod: 'get' }))).toBe('C-GET');
      expect(protocolOf('dimse').importMethod(moving({ retrieveMethod: 'move' }))).toBe('C-MOVE');
      expect(protocolOf('dicomweb').importMethod(dicomweb())).toBe('WADO-RS');
    });

    it('plans a DIMSE import as dimse.import-plan from the query AE title, else the default', () => {
      const { contract, data } = protocolOf('dimse').importPlanCommand(moving({}), plan, importContext);
      expect(contract).toBe(ImportBatchCommands.DimsePlan);
      expect(data).toEqual({ ...plan, target: dimseTarget });
      const own = protocolOf('dimse').importPlanCommand(
        moving({ queryAeTitle: 'QUERIER' }),
        plan,
        importContext,
      );
      expect(own.data).toMatchObject({ target: { callingAeTitle: 'QUERIER' } });
    });

    it('retrieves by the transfer method, C-MOVE on C-GET failure only for get-then-move while still C-GET', () => {
      const command = (row: PacsConfig, method: 'C-GET' | 'C-MOVE') =>
        protocolOf('dimse').importBatchCommand(row, retrieve, { ...importContext, method });
      const first = command(moving({}), 'C-GET');
      expect(first.contract).toBe(ImportBatchCommands.Dimse);
      expect(first.data).toEqual({
        ...retrieve,
        target: dimseTarget,
        operation: 'C-GET',
        moveOnGetFailure: true,
        moveDestinationAeTitle: 'PACSLINK_SCP',
      });
      expect(command(moving({}), 'C-MOVE').data).toMatchObject({
        operation: 'C-MOVE',
        moveOnGetFailure: false,
      });
      expect(command(moving({ retrieveMethod: 'get' }), 'C-GET').data).toMatchObject({
        operation: 'C-GET',
        moveOnGetFailure: false,
      });
      expect(
        command(moving({ retrieveMethod: 'move', queryAeTitle: 'QUERIER' }), 'C-MOVE').data,
      ).toMatchObject({
        operation: 'C-MOVE',
        moveOnGetFailure: false,
        target: { callingAeTitle: 'QUERIER' },
      });
    });

    it('plans and retrieves a DICOMweb import as dicomweb.import-plan and dicomweb.import-batch', () => {
      const row = dicomweb({ url: 'https://pacs.example.org/dicom-web' });
      const target = {
        url: 'https://pacs.example.org/dicom-web',
        pacsAeTitle: 'WEBPACS',
        auth: { method: 'none', secretContextId: row.id },
        timeoutMs: 30_000,
      };
      const planned = protocolOf('dicomweb').importPlanCommand(row, plan, importContext);
      expect(planned.contract).toBe(ImportBatchCommands.DicomwebPlan);
      expect(planned.data).toEqual({ ...plan, target });
      const retrieved = protocolOf('dicomweb').importBatchCommand(row, retrieve, {
        ...importContext,
        method: 'WADO-RS',
      });
      expect(retrieved.contract).toBe(ImportBatchCommands.Dicomweb);
      expect(retrieved.data).toEqual({ ...retrieve, target });
    });
  });

  describe('queries', () => {
    const query = {
      level: 'series' as const,
      keys: { Modality: 'CT' },
      returnKeys: ['SeriesInstanceUID'],
      limit: 10,
      offset: 20,
    };
    const queryContext = { cipher: context.cipher, defaultCallingAeTitle: 'PACSLINK' };

    it('asks dimse-worker for a C-FIND at the Query/Retrieve Level, from the query AE title or else the default', () => {
      const { contract, data } = protocolOf('dimse').queryCommand(dimse(), query, queryContext);
      expect(contract).toBe(QueryRequests.Dimse);
      expect(data).toEqual({
        host: 'pacs.example.org',
        port: 4242,
        calledAeTitle: 'ORTHANC',
        timeoutMs: 30_000,
        callingAeTitle: 'PACSLINK',
        level: 'SERIES',
        keys: { Modality: 'CT' },
        returnKeys: ['SeriesInstanceUID'],
        limit: 10,
        offset: 20,
      });
      const own = protocolOf('dimse').queryCommand(dimse({ queryAeTitle: 'QUERIER' }), query, queryContext);
      expect(own.data).toMatchObject({ callingAeTitle: 'QUERIER' });
      for (const [level, expected] of [
        ['study', 'STUDY'],
        ['instance', 'IMAGE'],
      ] as const) {
        expect(
          protocolOf('dimse').queryCommand(dimse(), { ...query, level }, queryContext).data,
        ).toMatchObject({
          level: expected,
        });
      }
    });

    it("asks dicomweb-worker for a QIDO-RS search of the level's resource", () => {
      const row = dicomweb({ url: 'https://pacs.example.org/dicom-web' });
      const { contract, data } = protocolOf('dicomweb').queryCommand(row, query, queryContext);
      expect(contract).toBe(QueryRequests.Dicomweb);
      expect(data).toEqual({
        url: 'https://pacs.example.org/dicom-web',
        pacsAeTitle: 'WEBPACS',
        auth: { method: 'none', secretContextId: row.id },
        timeoutMs: 30_000,
        level: 'series',
        filters: { Modality: 'CT' },
        includefield: ['SeriesInstanceUID'],
        limit: 10,
        offset: 20,
      });
      for (const [level, expected] of [
        ['study', 'studies'],
        ['instance', 'instances'],
      ] as const) {
        expect(
          protocolOf('dicomweb').queryCommand(row, { ...query, level }, queryContext).data,
        ).toMatchObject({
          level: expected,
        });
      }
    });
  });

  describe('worklist queries', () => {
    const filters = { scheduledDate: '20260301-20260331', modality: 'CT' };

    it('asks mwl-mpps-service from the query AE title (else the default) with the configured mwlEncoding', () => {
      const row = dimse({ mwl: true, mwlEncoding: 'ISO_IR 144' });
      const command = protocolOf('dimse').worklistQueryCommand?.(row, filters, {
        defaultCallingAeTitle: 'PACSLINK',
      });
      expect(command?.contract).toBe(WorklistRequests.Query);
      expect(command?.data).toEqual({
        pacsConfigId: row.id,
        target: {
          host: 'pacs.example.org',
          port: 4242,
          calledAeTitle: 'ORTHANC',
          timeoutMs: 30_000,
          callingAeTitle: 'PACSLINK',
          mwlEncoding: 'ISO_IR 144',
        },
        filters,
      });
      const own = protocolOf('dimse').worklistQueryCommand?.(dimse({ queryAeTitle: 'QUERIER' }), filters, {
        defaultCallingAeTitle: 'PACSLINK',
      });
      expect(own?.data).toMatchObject({ target: { callingAeTitle: 'QUERIER' } });
    });

    it('has no worklist for DICOMweb', () => {
      expect(protocolOf('dicomweb').worklistQueryCommand).toBeUndefined();
    });

    it("calls the MPPS SCP at the worklist's AE only when the configuration has mpps", () => {
      const context = { defaultCallingAeTitle: 'PACSLINK' };
      expect(protocolOf('dimse').mppsTarget?.(dimse({ mpps: false }), context)).toBeUndefined();
      expect(
        protocolOf('dimse').mppsTarget?.(
          dimse({ mpps: true, queryAeTitle: 'CT01', mwlEncoding: 'ISO_IR 100' }),
          context,
        ),
      ).toEqual({
        host: 'pacs.example.org',
        port: 4242,
        calledAeTitle: 'ORTHANC',
        timeoutMs: 30_000,
        callingAeTitle: 'CT01',
        mwlEncoding: 'ISO_IR 100',
      });
      expect(protocolOf('dicomweb').mppsTarget).toBeUndefined();
    });
  });

  describe('connection tests', () => {
    it('calls a DIMSE PACS from the calling AE title it is given', async () => {
      const callingAeTitle = jest.fn(() => Promise.resolve('LOCAL1'));
      const { contract, data } = await protocolOf('dimse').connectionTestCommand(dimse(), {
        cipher: context.cipher,
        callingAeTitle,
      });
      expect(contract).toBe(ConnectionTestRequests.Dimse);
      expect(data).toEqual({
        host: 'pacs.example.org',
        port: 4242,
        calledAeTitle: 'ORTHANC',
        timeoutMs: 30_000,
        callingAeTitle: 'LOCAL1',
      });
    });

    it('tests a DICOMweb PACS without asking for a calling AE title (a wrong one is not refused)', async () => {
      const callingAeTitle = jest.fn(() => Promise.reject(new Error('not a local AE title')));
      const row = dicomweb({ url: 'https://pacs.example.org/dicom-web' });
      const { contract, data } = await protocolOf('dicomweb').connectionTestCommand(row, {
        cipher: context.cipher,
        callingAeTitle,
      });
      expect(contract).toBe(ConnectionTestRequests.Dicomweb);
      expect(data).toEqual({
        url: 'https://pacs.example.org/dicom-web',
        pacsAeTitle: 'WEBPACS',
        auth: { method: 'none', secretContextId: row.id },
        timeoutMs: 30_000,
      });
      expect(callingAeTitle).not.toHaveBeenCalled();
    });
  });

  it('names where connections go without credentials or query', () => {
    expect(protocolOf('dimse').destination(dimse())).toEqual({ host: 'pacs.example.org', port: 4242 });
    expect(protocolOf('dicomweb').destination(dicomweb())).toEqual({
      url: 'https://pacs.example.org/dicom-web',
    });
    expect(
      protocolOf('dicomweb').destination(
        dicomweb({ authTokenUrl: 'https://id:secret@sso.example.org/token?x=1' }),
      ),
    ).toEqual({ url: 'https://pacs.example.org/dicom-web', tokenUrl: 'https://sso.example.org/token' });
    expect(protocolOf('dicomweb').destination(dicomweb({ url: 'not a url' }))).toEqual({ url: null });
  });
});
