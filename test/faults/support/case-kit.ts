import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  deleteStudyFromOrthanc,
  generateStudy,
  type GeneratedStudy,
  type PeerEndpoints,
  type StudyOptions,
} from '@pacslink/testing';
import type { FaultApp } from './built-services';
import type { CaseTransfer } from './end-state';
import type { FaultStack } from './fault-stack';
import { PacsProbe, type PacsProbeOptions } from './pacs-probe';
import type { ServiceProcess } from './service-process';
import { pidOfConnection } from './socket-owner';
import { startStorescp } from './storescp';
import type { SuitePacs } from './suite-pacs';

export interface DimsePacsOptions {
  maxAssociations?: number;
  timeoutMs?: number;
  responseDelayMs?: number;
}

let pacsNumber = 0;

/**
 * What one case sets up and takes down again: PACS configurations reached through probes of the
 * case's own, studies generated and uploaded into the store, transfers started; close() removes
 * the case's studies from the shared Orthanc and stops its relays and storescps.
 */
export class CaseKit {
  /** Every transfer the case started. */
  readonly started: CaseTransfer[] = [];
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly orthancStudies: string[] = [];

  constructor(
    readonly stack: FaultStack,
    readonly peers: PeerEndpoints,
  ) {}

  private async probe(name: string, upstream: { host: string; port: number }, options: PacsProbeOptions) {
    const probe = await new PacsProbe(name, upstream, options).start();
    this.closers.push(() => probe.close());
    return probe;
  }

  private aeTitle(prefix: string): string {
    pacsNumber += 1;
    return `${prefix}${process.pid % 1000}_${pacsNumber}`.slice(0, 16);
  }

  /** The shared Orthanc by C-STORE, through a probe. */
  async dimseOrthanc(options: DimsePacsOptions = {}): Promise<SuitePacs> {
    const maxAssociations = options.maxAssociations ?? 1;
    const aeTitle = this.aeTitle('ORTH');
    const probe = await this.probe(aeTitle, this.peers.orthanc, {
      unit: 'association',
      responseDelayMs: options.responseDelayMs,
    });
    const configId = await this.stack.api.createPacsConfig({
      type: 'dimse',
      aeTitle,
      name: `fault suite: Orthanc by C-STORE (${aeTitle})`,
      host: '127.0.0.1',
      port: probe.port,
      cStore: true,
      maxAssociations,
      timeoutMs: options.timeoutMs ?? 20_000,
    });
    return {
      name: aeTitle,
      configId,
      storage: { kind: 'orthanc', orthanc: this.peers.orthanc },
      probe,
      maxAssociations,
    };
  }

  /** The shared Orthanc by STOW-RS (multipart/related, HTTP Basic), through a probe. */
  async stowOrthanc(options: { timeoutMs?: number; responseDelayMs?: number } = {}): Promise<SuitePacs> {
    const aeTitle = this.aeTitle('STOW');
    const { orthanc } = this.peers;
    const http = new URL(orthanc.httpUrl);
    const probe = await this.probe(
      aeTitle,
      { host: http.hostname, port: Number(http.port) },
      {
        unit: 'request',
        responseDelayMs: options.responseDelayMs,
      },
    );
    const configId = await this.stack.api.createPacsConfig({
      type: 'dicomweb',
      aeTitle,
      name: `fault suite: Orthanc by STOW-RS (${aeTitle})`,
      url: `http://127.0.0.1:${probe.port}${new URL(orthanc.dicomWebUrl).pathname}`,
      stowRs: true,
      stowMultipartRelated: true,
      auth: { method: 'basic', username: orthanc.user, password: orthanc.password },
      timeoutMs: options.timeoutMs ?? 20_000,
    });
    return { name: aeTitle, configId, storage: { kind: 'orthanc', orthanc }, probe };
  }

  /** A DCMTK storescp of the case's own by C-STORE, through a probe. */
  async storescp(options: DimsePacsOptions = {}): Promise<SuitePacs> {
    const maxAssociations = options.maxAssociations ?? 1;
    const aeTitle = this.aeTitle('SCP');
    const storescp = await startStorescp(
      join(this.stack.dir, 'storescp', aeTitle),
      aeTitle,
      join(this.stack.dir, 'logs', `storescp-${aeTitle}.log`),
    );
    this.closers.push(() => storescp.stop());
    const probe = await this.probe(aeTitle, storescp, {
      unit: 'association',
      responseDelayMs: options.responseDelayMs,
    });
    const configId = await this.stack.api.createPacsConfig({
      type: 'dimse',
      aeTitle,
      name: `fault suite: storescp (${aeTitle})`,
      host: '127.0.0.1',
      port: probe.port,
      cStore: true,
      maxAssociations,
      timeoutMs: options.timeoutMs ?? 20_000,
    });
    return { name: aeTitle, configId, storage: { kind: 'storescp', storescp }, probe, maxAssociations };
  }

  /** A configuration of a PACS the case runs itself (down, rejecting, trickling): nothing is stored there. */
  async unstoredPacs(body: Record<string, unknown>): Promise<SuitePacs> {
    const aeTitle = this.aeTitle(String(body.type) === 'dimse' ? 'DIMSE' : 'WEB');
    const configId = await this.stack.api.createPacsConfig({
      ...body,
      aeTitle,
      name: `fault suite: ${aeTitle}`,
    });
    return { name: aeTitle, configId, storage: { kind: 'none' } };
  }

  /** A generated study, uploaded into the store; removed from the shared Orthanc by close(). */
  async study(options: StudyOptions): Promise<GeneratedStudy> {
    const study = await generateStudy(join(this.stack.dir, 'studies'), options);
    await this.stack.api.upload(study.files);
    this.orthancStudies.push(study.studyInstanceUid);
    return study;
  }

  async export(pacs: SuitePacs, study: GeneratedStudy): Promise<CaseTransfer> {
    const transfer = {
      id: await this.stack.api.startExport(pacs.configId, study.studyInstanceUid),
      study,
      pacs,
    };
    this.started.push(transfer);
    return transfer;
  }

  /** Which of `replicas` is sending through one of `probes` right now, if any. */
  private async sender(replicas: readonly ServiceProcess[], probes: readonly PacsProbe[]) {
    for (const probe of probes) {
      for (const port of probe.activeClientPorts()) {
        const pid = await pidOfConnection(
          replicas.map((replica) => replica.pid),
          port,
          probe.port,
        );
        const replica = replicas.find((candidate) => candidate.pid === pid);
        if (replica) return replica;
      }
    }
    return undefined;
  }

  /** The replica of `app` that is sending through `probe` right now (the one to kill mid-batch). */
  async sendingReplica(probe: PacsProbe, app: FaultApp): Promise<ServiceProcess> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const replica = await this.sender(this.stack.live(app), [probe]);
      if (replica) return replica;
      await sleep(20);
    }
    throw new Error(`no ${app} replica is sending through ${probe.name}`);
  }

  /** Waits (up to `timeoutMs`) until `replica` is sending through one of `probes`; false if it never did. */
  async untilSending(
    replica: ServiceProcess,
    probes: readonly PacsProbe[],
    timeoutMs: number,
  ): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.sender([replica], probes)) return true;
      await sleep(20);
    }
    return false;
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    for (const uid of this.orthancStudies) {
      await deleteStudyFromOrthanc(this.peers.orthanc, uid).catch(() => undefined);
    }
  }
}
