import { once } from 'node:events';
import { readdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { deleteStudyFromOrthanc, type OrthancPeer } from '@pacslink/testing';
import { expectStudyComplete, type BenchPeers } from './bench-orthanc';
import type { Scenario } from './measure';
import { runTool } from './run-tool';
import type { BenchStudy } from './studies';

const TOOL_TIMEOUT_MS = 15 * 60_000;
const CALLING_AE_TITLE = 'BENCHSCU';

/**
 * storescu sends every file of the directory over ONE association: it opens a second one only when
 * the files need more than 128 presentation contexts (PS3.8 9.3.2.2), and one SOP class and
 * transfer syntax need one context (checked with -v: a single "Requesting Association").
 */
function storescuArgs(peer: { aet: string; host: string; port: number }, study: BenchStudy): string[] {
  return [
    '-aet',
    CALLING_AE_TITLE,
    '-aec',
    peer.aet,
    peer.host,
    String(peer.port),
    '+sd',
    '+r',
    study.directory,
  ];
}

export function storescuToOrthanc(orthanc: OrthancPeer, study: BenchStudy): Scenario {
  return {
    name: 'DCMTK storescu, 1 association',
    kind: 'storescu',
    study,
    prepare: () => deleteStudyFromOrthanc(orthanc, study.studyInstanceUid),
    run: async () => {
      await runTool('storescu', storescuArgs(orthanc, study), TOOL_TIMEOUT_MS);
    },
    verify: () => expectStudyComplete(orthanc, study.studyInstanceUid, study.files.length),
  };
}

/** One curl POST of a body file written beforehand (untimed); -T streams it instead of loading it. */
export function curlStowToOrthanc(orthanc: OrthancPeer, study: BenchStudy, bodyFile: string): Scenario {
  const responseFile = `${bodyFile}.response`;
  return {
    name: 'curl, one multipart/related POST',
    kind: 'curl',
    study,
    prepare: () => deleteStudyFromOrthanc(orthanc, study.studyInstanceUid),
    run: async () => {
      const status = await runTool(
        'curl',
        [
          '-sS',
          '-o',
          responseFile,
          '-w',
          '%{http_code}',
          '-u',
          `${orthanc.user}:${orthanc.password}`,
          '-H',
          `Content-Type: ${study.body.contentType}`,
          // Without this curl waits up to 1 s for a "100 Continue" before sending a large body.
          '-H',
          'Expect:',
          '-X',
          'POST',
          '-T',
          bodyFile,
          `${orthanc.dicomWebUrl}/studies`,
        ],
        TOOL_TIMEOUT_MS,
      );
      if (status.trim() !== '200') {
        const answer = await readFile(responseFile, 'utf8').catch(() => '');
        throw new Error(`STOW-RS answered HTTP ${status.trim()}: ${answer.slice(0, 500)}`);
      }
    },
    verify: () => expectStudyComplete(orthanc, study.studyInstanceUid, study.files.length),
  };
}

export function storescuToStorescp(storescp: BenchPeers['storescp'], study: BenchStudy): Scenario {
  const emptyDir = async () => {
    for (const name of await readdir(storescp.dir)) await rm(join(storescp.dir, name), { force: true });
  };
  return {
    name: 'reference: storescu -> storescp',
    kind: 'reference',
    study,
    prepare: emptyDir,
    run: async () => {
      await runTool('storescu', storescuArgs(storescp, study), TOOL_TIMEOUT_MS);
    },
    verify: async () => {
      const received = (await readdir(storescp.dir)).length;
      if (received !== study.files.length) {
        throw new Error(`storescp wrote ${received} of ${study.files.length} files`);
      }
    },
  };
}

/** The same bytes through one loopback TCP connection into a sink: what the wire alone costs. */
export function loopbackTcp(study: BenchStudy): Scenario {
  return {
    name: 'reference: loopback TCP, same bytes',
    kind: 'reference',
    study,
    run: async () => {
      let received = 0;
      const server = createServer((socket: Socket) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const drained = new Promise<void>((resolve) =>
        server.once('connection', (s) => s.once('end', resolve)),
      );
      const socket = connect({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        noDelay: true,
      });
      // One file at a time (at most 0.5 MB here); a read stream per file costs more than the wire.
      for (const file of study.files) {
        if (!socket.write(await readFile(file))) await once(socket, 'drain');
      }
      socket.end();
      await drained;
      await new Promise((resolve) => server.close(resolve));
      if (received !== study.totalBytes)
        throw new Error(`the sink got ${received} of ${study.totalBytes} bytes`);
    },
  };
}
