/**
 * A compose file directly at `source.path` (`docker-compose.yml` at the repository root: the layout
 * of every `git pull && docker compose up -d` cron job) deploys nothing. The source says so in the
 * daemon's log — `source.root_compose`, a warning naming the file and how to move it — once per
 * new revision, over a real Git server and from a local repository.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { memoryLogger } from '../../internal/log/memory.test-helpers.js';
import { createGitSource } from '../../internal/source/index.js';
import { makeTempDir, removeDir } from '../helpers/git-fixtures.js';
import { createTestRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';

const WEB = 'services:\n  web:\n    image: "stackd-test/busybox:1"\n';
const MOVE_IT =
  'stacks are the directories below it; move it into a directory, e.g. `myapp/docker-compose.yml`: the directory name becomes the stack id';

describe('a compose file at source.path itself', () => {
  let root: string;
  let server: GitServer;
  let repo: TestRepo;

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(join(root, 'srv'), 'cron');
    server = await startGitServer({ root: join(root, 'srv') });
  });
  afterAll(async () => {
    await server.close();
    await removeDir(root);
  });

  const warnings = async (lines: () => Promise<Record<string, unknown>[]>) =>
    (await lines()).filter((l) => l['event'] === 'source.root_compose');

  it('is a warning in the log naming the file and how to move it, once per revision', async () => {
    const first = await repo.commit({ 'docker-compose.yml': WEB, 'nginx/nginx.conf': 'events {}\n' });
    const { logger, lines } = memoryLogger();
    const dataDir = join(root, 'data');
    const source = createGitSource({ url: server.url('cron'), dataDir, logger });

    const snapshot = await source.refresh();
    expect(snapshot.stacks.size).toBe(0);
    expect(snapshot.rootComposeFiles).toEqual(['docker-compose.yml']);
    expect(await warnings(lines)).toEqual([
      {
        timestamp: expect.any(String),
        level: 'warn',
        event: 'source.root_compose',
        message: `\`docker-compose.yml\` is directly at source.path (the repository root) and deploys nothing: ${MOVE_IT}`,
        files: ['docker-compose.yml'],
        revision: first,
      },
    ]);

    // An unchanged refresh says nothing again; a new commit that keeps the file does.
    await source.refresh();
    expect(await warnings(lines)).toHaveLength(1);
    const second = await repo.commit({ 'nginx/nginx.conf': 'events { }\n' });
    await source.refresh();
    expect((await warnings(lines)).map((l) => l['revision'])).toEqual([first, second]);

    // After a restart, the snapshot restored from dataDir/repo is warned about too.
    const restarted = memoryLogger();
    const again = createGitSource({ url: server.url('cron'), dataDir, logger: restarted.logger });
    expect((await again.loadCached())?.revision).toBe(second);
    expect((await warnings(restarted.lines)).map((l) => l['revision'])).toEqual([second]);

    // Moved into a directory: a stack, and no warning.
    const moved = await repo.commit({ 'docker-compose.yml': null, 'myapp/docker-compose.yml': WEB });
    const fixed = await source.refresh();
    expect(fixed.revision).toBe(moved);
    expect([...fixed.stacks.keys()]).toEqual(['myapp']);
    expect(fixed.rootComposeFiles).toBeUndefined();
    expect(await warnings(lines)).toHaveLength(2);
  });

  it('names the source.path it is at, from a local repository', async () => {
    await repo.commit({ 'stacks/compose.yaml': WEB, 'stacks/web/compose.yaml': WEB });
    const { logger, lines } = memoryLogger();
    const source = createGitSource({
      url: repo.workDir,
      path: 'stacks',
      dataDir: join(root, 'local'),
      logger,
    });
    const snapshot = await source.refresh();
    expect([...snapshot.stacks.keys()]).toEqual(['web']);
    const [warning, ...more] = await warnings(lines);
    expect(more).toEqual([]);
    expect(warning).toMatchObject({ level: 'warn', files: ['stacks/compose.yaml'] });
    expect(warning?.['message']).toBe(
      '`stacks/compose.yaml` is directly at source.path (`stacks`) and deploys nothing: stacks are the directories below it; move it into a directory, e.g. `myapp/compose.yaml`: the directory name becomes the stack id',
    );
  });
});
