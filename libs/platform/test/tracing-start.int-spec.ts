import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../../..');

// What a service's first import (apps/<app>/src/tracing.ts) does to the process, seen from a real
// process: with no OTLP endpoint the SDK is never loaded and nothing is patched; with one, the SDK
// runs and `http` is instrumented before anything else requires it.
const PROBE = `
require('./apps/dimse-worker/src/tracing');
const http = require('http');
const { trace } = require('@opentelemetry/api');
const loaded = Object.keys(require.cache).filter((path) => /@opentelemetry[\\\\/](sdk-|exporter-|instrumentation)/.test(path));
console.log(JSON.stringify({
  sdkModules: loaded.length,
  httpPatched: Boolean(http.request.__wrapped),
  recording: trace.getTracer('probe').startSpan('probe').isRecording(),
}));
`;

async function probe(
  env: Record<string, string>,
): Promise<{ sdkModules: number; httpPatched: boolean; recording: boolean }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', PROBE],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: 'apps/dimse-worker/tsconfig.app.json', ...env },
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as never;
}

describe('tracing at start-up', () => {
  it('off without an OTLP endpoint: no SDK module loaded, http untouched, spans are no-ops', async () => {
    expect(await probe({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toEqual({
      sdkModules: 0,
      httpPatched: false,
      recording: false,
    });
  });

  it('off with OTEL_SDK_DISABLED=true even with an endpoint', async () => {
    expect(
      await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }),
    ).toMatchObject({ sdkModules: 0, recording: false });
  });

  it('on with OTEL_EXPORTER_OTLP_ENDPOINT: the SDK runs and http is instrumented', async () => {
    const started = await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(started.sdkModules).toBeGreaterThan(0);
    expect(started).toMatchObject({ httpPatched: true, recording: true });
  });
});
