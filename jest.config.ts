/** @jest-config-loader ts-node */
// The pragma above: Node 22 would load this file with its own type stripping, as an ES module
// without __dirname and without JSON imports; ts-node reads it the same way on Node 20 and 22.
import type { Config } from 'jest';
import { pathsToModuleNameMapper } from 'ts-jest';
import { compilerOptions } from './tsconfig.base.json';

// One run, five tiers: `unit` (*.spec.ts, no I/O), `integration` (*.int-spec.ts, *.e2e-spec.ts:
// real Postgres, RabbitMQ and DICOM peers, prepared once by the global setup), `manifests`
// (k8s/test: the Kubernetes manifests rendered and checked offline), `store-pooled` (the store's
// tests in its network-filesystem mode) and `faults`
// (test/faults/*.fault-spec.ts: the built services under faults, docs/testing/fault-suite.md).
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['reflect-metadata'],
} satisfies Config;

const config: Config = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts', '<rootDir>/{apps,libs}/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      testTimeout: 60_000,
    },
    {
      // The Kubernetes manifests, offline: kubectl kustomize (npm run k8s:tools), schemas, policies.
      ...shared,
      displayName: 'manifests',
      testMatch: ['<rootDir>/k8s/test/**/*.spec.ts'],
    },
    {
      // The study store's tests and the DIMSE store/Storage SCP ones again with STORE_IO=pooled, the
      // mode `auto` picks on NFS, CephFS or SMB: the other tiers run the local-disk (sync) mode.
      ...shared,
      displayName: 'store-pooled',
      testMatch: [
        '<rootDir>/libs/store/src/study-store.spec.ts',
        '<rootDir>/libs/store/test/{study-store,temporary-sweep}.int-spec.ts',
        '<rootDir>/libs/dimse/test/{store,storage-scp}.int-spec.ts',
      ],
      setupFiles: [...shared.setupFiles, '<rootDir>/test/store-io-pooled.ts'],
    },
    {
      // The built services as processes, their broker and database behind cuttable links (test/faults).
      ...shared,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
  maxWorkers: 2,
  testTimeout: 60_000,
};

export default config;
