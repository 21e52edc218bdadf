/** Unit tests need nothing; integration and replay tests get a real Temporal dev server and the test database from test/support/global-setup.ts. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Transpiled only (isolatedModules: ts-jest 29.4's way to skip its per-file type check): the types
  // are checked once, by scripts/setup.sh's tsc over the whole project (test/ included).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/support/tsconfig.jest.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Two suites at a time (CI has 2 cores; jest's default there is one). The suites share the dev
  // server and the test database, each on its own task queues and tenant.
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Three times longer in CI's cache-off step, as the harness's waits (test/support/harness.ts waitScale).
  testTimeout: process.env.WORKER_MAX_CACHED_WORKFLOWS === '0' ? 180_000 : 60_000,
};
