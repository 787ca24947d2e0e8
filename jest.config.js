// Jest in native ESM mode (run through `node --experimental-vm-modules`), TypeScript stripped by
// @swc/jest; type checking is `tsc --noEmit`. Two projects: `unit` (pure, no Docker, no network
// but loopback) next to the sources, and `integration` under test/ (real Docker engine, compose,
// Git server, built CLI).
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
  ],
};
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  // Test files start servers and child processes; soft-deleting their globals between files
  // only produces warnings (and a stack overflow in jest-util's setter chain).
  testEnvironmentOptions: { globalsCleanup: 'off' },
};
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{pkg,internal,cmd}/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
    },
  ],
  // A per-project testTimeout is ignored by jest 30; end-to-end tests drive real compose.
  testTimeout: 180000,
};
