// The order jest starts test files in (jest.config.js's testSequencer). On a fresh clone (CI) jest has no timings and starts the
// biggest files first, which puts the small per-compose-version wrappers (sync-core.v1.test.ts)
// last and leaves one worker running a long file alone at the end. This starts the files known to
// be long first, longest first (seconds measured with `--maxWorkers=4`, rounded; re-measure with
// `--json` when a file changes much), then every other test by jest's own rules.
import Sequencer from '@jest/test-sequencer';

const KNOWN_SECONDS = {
  // Mostly waiting (its windows are the issue's: three minutes of watching a crash loop).
  'test/e2e/health.test.ts': 200,
  'test/e2e/compose-features.test.ts': 74,
  'test/e2e/sync-edge.test.ts': 70,
  'test/e2e/daemon.test.ts': 62,
  'test/e2e/sync-core.v2.test.ts': 57,
  'test/e2e/sync-core.v1.test.ts': 57,
  'test/faults/engine.test.ts': 54,
  'test/faults/hostile-worktree.v1.test.ts': 50,
  'test/faults/engine-hang.test.ts': 50,
  'test/faults/engine-stall.test.ts': 50,
  'test/faults/compose-hang.test.ts': 46,
  'test/faults/hostile-worktree.v2.test.ts': 45,
  'test/faults/crash.test.ts': 36,
  'test/faults/disk.test.ts': 34,
  'test/faults/git.test.ts': 33,
  'test/deploy/demo.test.ts': 31,
  'test/deploy/install.test.ts': 25,
  'test/cli/lock.test.ts': 22,
  'test/e2e/queued-status.test.ts': 22,
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
