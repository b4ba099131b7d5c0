/**
 * What each STORE_IO mode costs the store's hot paths, in process, without a network or a peer:
 * `StudyStore.write` of a study (in 16 KB chunks as the Storage SCP hands them over, no fsync:
 * the calls themselves) and `openPart10` + close of every file (the C-STORE sender's open and
 * head read), in `sync` then `pooled` mode, interleaved, median of 5 rounds. Wall and CPU time.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/store-io/main.ts \
 *     [--dir /dev/shm/store-io] [--instance-bytes 9400] [--instances 2000]
 *
 * The directory's filesystem is what is measured: /dev/shm leaves out the disk (see
 * docs/performance/store-io.md).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openPart10 } from '../../libs/dimse/src/store/part10-file';
import { StudyStore, storeIo, useStoreIo, type StoreIoMode } from '@pacslink/store';
import { generateStudy } from '@pacslink/testing';
import { argument, median } from '../dimse/common';

const CHUNK_BYTES = 16_384;
const ROUNDS = 5;
const MODES: readonly StoreIoMode[] = ['sync', 'pooled'];

function chunksOf(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += CHUNK_BYTES) chunks.push(data.subarray(at, at + CHUNK_BYTES));
  return Readable.from(chunks);
}

/** Wall and CPU milliseconds of `work`. */
async function timed(work: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const root = argument('dir', '/dev/shm/store-io');
  const instanceBytes = Number(argument('instance-bytes', '9400'));
  const instances = Number(argument('instances', '2000'));
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const study = await generateStudy(join(root, 'study'), {
    series: 1,
    instancesPerSeries: instances,
    instanceBytes,
  });
  const files = await Promise.all(study.files.map((file) => readFile(file)));
  const results = new Map(MODES.map((mode) => [mode, { write: [] as number[][], open: [] as number[][] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of MODES) {
      useStoreIo(mode);
      const store = new StudyStore(join(root, `${mode}-${round}`), { createAhead: true });
      const paths: string[] = [];
      const write = await timed(async () => {
        for (const data of files) paths.push((await store.write(chunksOf(data), { syncFile: false })).path);
      });
      await store.dropSpare();
      const open = await timed(async () => {
        for (const path of paths) {
          const opened = await openPart10(store.absolutePath(path));
          if (!opened.ok) throw new Error(opened.reason);
          await storeIo().close(opened.file.fd);
        }
      });
      results.get(mode)?.write.push([write.wallMs, write.cpuMs]);
      results.get(mode)?.open.push([open.wallMs, open.cpuMs]);
      // retried: the next spare, started by the last write, may be created meanwhile (then dropped)
      await rm(store.rootDir, { recursive: true, force: true, maxRetries: 5 });
    }
  }
  await rm(root, { recursive: true, force: true });
  const ms = (runs: number[][], at: number) => `${median(runs.map((run) => run[at])).toFixed(0)} ms`;
  console.log(`\n${instances} × ${instanceBytes} B under ${root}, median of ${ROUNDS} rounds\n`);
  console.log('| mode | write: wall | write: CPU | openPart10 + close: wall | openPart10 + close: CPU |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [mode, { write, open }] of results) {
    console.log(`| ${mode} | ${ms(write, 0)} | ${ms(write, 1)} | ${ms(open, 0)} | ${ms(open, 1)} |`);
  }
}

void main();
