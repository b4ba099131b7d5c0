import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const FAULT_APPS = ['config-service', 'dimse-worker', 'dicomweb-worker'] as const;
export type FaultApp = (typeof FAULT_APPS)[number];

/** Another build to run (e.g. a clean checkout of main's HEAD): its `dist/`, beside its sources. */
export const DIST_DIR_ENV = 'FAULTS_DIST_DIR';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
/** Written by `npm run build` when every project built (scripts/stamp-build.js). */
const BUILD_STAMP = '.built-at';
const SOURCE_ROOTS = ['apps', 'libs'];
/** Tests and the test library are never bundled: a change there does not make dist/ stale. */
const NOT_BUNDLED_FILES = /\.(spec|int-spec|e2e-spec)\.ts$/;
const NOT_BUNDLED_DIRS = new Set(['node_modules', 'test', 'testing']);

export interface BuiltServices {
  /** The checkout the bundles were built from (the services' working directory). */
  root: string;
  mainOf(app: FaultApp): string;
}

function newestSource(dir: string, found: { path: string; mtimeMs: number }): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_BUNDLED_DIRS.has(entry.name)) newestSource(path, found);
    } else if (entry.name.endsWith('.ts') && !NOT_BUNDLED_FILES.test(entry.name)) {
      const { mtimeMs } = statSync(path);
      if (mtimeMs > found.mtimeMs) Object.assign(found, { path, mtimeMs });
    }
  }
}

/**
 * The fault suite runs the services as a deployment does, from their webpack bundles: a bundle
 * missing or older than a source file it may contain would test code that is not the checkout's,
 * so that is refused with what to do, rather than built here behind the suite's timing.
 */
export function builtServices(env: NodeJS.ProcessEnv = process.env): BuiltServices {
  const dist = env[DIST_DIR_ENV] ? resolve(env[DIST_DIR_ENV]) : join(REPO_ROOT, 'dist');
  const root = dirname(dist);
  const mainOf = (app: FaultApp) => join(dist, 'apps', app, 'main.js');
  const missing = FAULT_APPS.filter((app) => !existsSync(mainOf(app)));
  if (missing.length > 0) {
    throw new Error(
      `the fault suite runs the built services, and ${missing.map((app) => relative(root, mainOf(app))).join(', ')} ` +
        `is missing: run \`npm run build\` in ${root} first`,
    );
  }
  // A full `npm run build` stamps dist/.built-at (scripts/stamp-build.js): every bundle matched the
  // sources then, including those nx or webpack did not rewrite because they did not change.
  const stamp = join(dist, BUILD_STAMP);
  const oldest = Math.max(
    Math.min(...FAULT_APPS.map((app) => statSync(mainOf(app)).mtimeMs)),
    existsSync(stamp) ? statSync(stamp).mtimeMs : 0,
  );
  const newest = { path: '', mtimeMs: 0 };
  for (const sources of SOURCE_ROOTS) newestSource(join(root, sources), newest);
  if (newest.mtimeMs > oldest) {
    throw new Error(
      `dist/ is older than the sources (${relative(root, newest.path)} changed at ` +
        `${new Date(newest.mtimeMs).toISOString()}, the build is of ${new Date(oldest).toISOString()}): ` +
        `run \`npm run build\` in ${root} first, so that the fault suite tests this checkout's code`,
    );
  }
  return { root, mainOf };
}
