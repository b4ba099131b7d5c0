import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cleanup } from '../export/cleanup';
import { log } from '../export/log';
import { PacslinkApi } from '../export/pacslink-api';
import { startPacslink } from '../export/pacslink-services';
import type { BenchStudy } from '../export/studies';
import { MessageTaps } from './message-taps';
import { PduProxy } from './pdu-proxy';
import { freePort } from '@pacslink/testing';

/** One build under test: config-service and dimse-worker, a storescp of its own behind a proxy. */
export interface EngineStack {
  label: string;
  api: PacslinkApi;
  apiUrl: string;
  pacsConfigId: string;
  proxy: PduProxy;
  taps: MessageTaps;
}

/** DCMTK storescp that receives and answers but writes nothing: the peer costs as little as it can. */
async function startStorescp(workDir: string, cleanup: Cleanup): Promise<number> {
  const port = await freePort();
  const dir = await mkdtemp(join(workDir, 'storescp-'));
  const child = spawn(
    'storescp',
    ['--ignore', '--aetitle', 'STORESCP', '--output-directory', dir, String(port)],
    // DCMTK turns Nagle's algorithm off only when asked: else each small C-STORE-RSP waits for a delayed ACK.
    { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } },
  );
  const removeHook = cleanup.addExitHook(`kill storescp ${child.pid}`, () => child.kill('SIGKILL'));
  cleanup.add(`stop storescp (pid ${child.pid})`, () => {
    child.kill('SIGTERM');
    removeHook();
  });
  for (let tries = 0; tries < 100; tries++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return port;
    await sleep(100);
  }
  throw new Error(`storescp did not listen on ${port}`);
}

export async function startEngineStack(
  workDir: string,
  cleanup: Cleanup,
  build: { label: string; distDir?: string },
  studies: readonly BenchStudy[],
): Promise<EngineStack> {
  const storescpPort = await startStorescp(workDir, cleanup);
  const proxy = await new PduProxy('127.0.0.1', storescpPort).start();
  cleanup.add(`close the ${build.label} proxy`, () => proxy.close());
  const stack = await startPacslink(workDir, cleanup, {
    apps: ['config-service', 'dimse-worker'],
    distDir: build.distDir,
    name: build.label,
  });
  const api = new PacslinkApi(stack.apiUrl);
  await api.allowTransfer();
  const response = await fetch(`${stack.apiUrl}/pacs-configs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'dimse',
      name: 'engine bench storescp x1',
      aeTitle: 'STORESCP',
      host: '127.0.0.1',
      port: proxy.port,
      cStore: true,
      maxAssociations: 1,
    }),
  });
  if (response.status !== 201)
    throw new Error(`POST /pacs-configs: ${response.status} ${await response.text()}`);
  const { id: pacsConfigId } = (await response.json()) as { id: string };
  const taps = await MessageTaps.subscribe(stack.amqpUrl, cleanup);
  for (const study of studies) {
    log(`${build.label}: uploading ${study.shape.label} (untimed)`);
    await api.uploadStudy(study);
  }
  return { label: build.label, api, apiUrl: stack.apiUrl, pacsConfigId, proxy, taps };
}
