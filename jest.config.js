// Jest in native ESM mode (run through `node --experimental-vm-modules`), TypeScript stripped by
// @swc/jest; type checking is `tsc --noEmit`.
//
// Tests are sorted by what they need, not by folder. The rule:
//   `check`  — needs no Docker engine and no compose: pure unit tests next to the sources, and the
//              tests under test/ that use only loopback (HTTP servers, a real Git server through
//              `git http-backend`), the file system, shell tools (bash, systemd-analyze, promtool)
//              and the built CLI (`dist/`: `make check` builds first). `make check` runs them.
//   `engine` — talks to a Docker engine or runs compose (directly, or through stackd): everything
//              else under test/. `make test` runs both.
// A file belongs to `check` only if it passes with the engine unreachable
// (`DOCKER_HOST=unix:///nonexistent`). A new test file under test/ is `engine` unless listed in
// CHECK below.
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
/** The tests under test/ that need no Docker engine (see the rule above). */
const CHECK = [
  'test/server/**/*.test.ts',
  'test/source/**/*.test.ts',
  'test/cli/cannot-start.test.ts',
  'test/cli/client.test.ts',
  'test/cli/config.test.ts',
  'test/cli/validate-path.test.ts',
  'test/cli/logs.test.ts',
  'test/deploy/config-example.test.ts',
  'test/deploy/engines.test.ts',
  'test/deploy/grafana.test.ts',
  'test/deploy/install.test.ts',
  'test/deploy/journald.test.ts',
  'test/deploy/prometheus.test.ts',
  'test/deploy/systemd.test.ts',
].map((glob) => `<rootDir>/${glob}`);
export default {
  projects: [
    {
      ...common,
      displayName: 'check',
      testMatch: ['<rootDir>/{pkg,internal,cmd}/**/*.test.ts', ...CHECK],
    },
    {
      ...common,
      displayName: 'engine',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...CHECK.map(toRegExp)],
    },
  ],
  // Long files first, so no worker is left running one alone at the end (see the file).
  testSequencer: '<rootDir>/jest.sequencer.config.js',
  // A per-project testTimeout is ignored by jest 30; end-to-end tests drive real compose.
  testTimeout: 180000,
};

/** `<rootDir>/test/server/**\/*.test.ts` → a regular expression testPathIgnorePatterns accepts. */
function toRegExp(glob) {
  const body = glob
    .replace('<rootDir>/', '')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '(?:.*/)?')
    .replace(/\*/g, '[^/]*');
  return `<rootDir>/${body}$`;
}
