// The order jest starts test files in (jest.config.js's testSequencer). On a fresh clone (CI) jest has no timings and starts the
// biggest files first, which puts the small per-compose-version wrappers (sync-core.v1.test.ts)
// last and leaves one worker running a long file alone at the end. This starts the files known to
// be long first, longest first (seconds measured with `--maxWorkers=4`, rounded; re-measure with
// `--json` when a file changes much), then every other test by jest's own rules.
import Sequencer from '@jest/test-sequencer';

const KNOWN_SECONDS = {
  // Mostly waiting (its windows are the issue's: three minutes of watching a crash loop).
  'test/e2e/health.test.ts': 212,
  // Mostly waiting too: the two minutes in which a rolled-back digest is not pulled again.
  'test/e2e/image-updates.test.ts': 200,
  'test/e2e/sync-edge.test.ts': 108,
  'test/deploy/install.test.ts': 103,
  'test/e2e/compose-features.test.ts': 98,
  // Measured alone (compose v2 and v1 in one file).
  'test/e2e/build.test.ts': 80,
  'test/e2e/daemon.test.ts': 91,
  'test/faults/engine-hang.test.ts': 77,
  'test/e2e/sync-core.v1.test.ts': 73,
  'test/faults/crash.test.ts': 63,
  // Measured alone: a daemon, four HTTP receivers, ten manual syncs.
  'test/e2e/feedback.test.ts': 55,
  'test/faults/hostile-worktree.v2.test.ts': 55,
  'test/cli/lock.test.ts': 54,
  'test/faults/compose-hang.test.ts': 50,
  'test/e2e/sync-core.v2.test.ts': 50,
  'test/faults/engine.test.ts': 50,
  'test/deploy/demo.test.ts': 48,
  'test/faults/hostile-tree.test.ts': 47,
  'test/faults/git.test.ts': 45,
  'test/faults/disk.test.ts': 42,
  'test/cli/client.test.ts': 41,
  'test/e2e/queued-status.test.ts': 34,
  'test/faults/hostile-worktree.v1.test.ts': 32,
  'test/cli/logs.test.ts': 32,
  'test/e2e/forget.test.ts': 27,
  'test/e2e/intent.test.ts': 30,
  // Measured alone: a daemon, headless Chromium, one breaking commit.
  'test/e2e/status-page.test.ts': 35,
  'test/faults/engine-stall.test.ts': 26,
  'test/e2e/source-status.test.ts': 25,
  // Measured alone (a docker-registry on loopback, six sync --once runs).
  'test/e2e/registry.test.ts': 35,
  'test/source/git-ssh.test.ts': 24,
  'test/e2e/ssh-source.test.ts': 25,
  'test/e2e/compose-fidelity.test.ts': 50,
  'test/cli/validate-compose.test.ts': 46,
  'test/compose-fidelity/differential.test.ts': 40,
  'test/e2e/sops.test.ts': 30,
  'test/faults/redaction.test.ts': 25,
  // Measured alone (a docker-registry on loopback, two pushes).
  'test/images/registry-client.test.ts': 3,
};

const seconds = (test) => {
  const relative = test.path.slice(test.context.config.rootDir.length + 1);
  return KNOWN_SECONDS[relative];
};

const Base = Sequencer.default ?? Sequencer;

export default class KnownLongFirst extends Base {
  sort(tests) {
    const rest = super.sort(tests.filter((test) => seconds(test) === undefined));
    const known = tests.filter((test) => seconds(test) !== undefined).sort((a, b) => seconds(b) - seconds(a));
    return [...known, ...rest];
  }
}
