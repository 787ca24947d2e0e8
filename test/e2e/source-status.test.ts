/**
 * A failing source is visible where operators look, end to end against the built binary, a real
 * Git server with basic auth and the real engine: a wrong branch and an expired token each make
 * `stackd status` print the source error and exit 3, the API's `source.lastError` is set while the
 * stack is still reported from the last good state, and fixing it clears both.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDaemon, waitForStack } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { git } from '../helpers/git-repo.js';
import { Harness, composeFile } from '../helpers/stackd.js';

const USER = 'deploy-bot';
const TOKEN = 'good-token-0123456789';
/** What the daemon is given: refused until the forge is told it is the valid token. */
const RENEWED = 'renewed-token-0123456789';

describe('the source in `stackd status` and the API', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create('srcstatus', { auth: { username: USER, password: TOKEN } });
    h.env = { ...h.env, STACKD_SOURCE_USERNAME: USER, STACKD_SOURCE_POLL_INTERVAL: '0' };
    await h.commit({ 'web/compose.yaml': composeFile({ a: {} }) });
  });

  afterAll(async () => {
    await h.cleanup();
  });

  it('a wrong branch: the error in status (exit 3) and the API; pushing the branch clears it', async () => {
    const d = await startDaemon(h, { STACKD_SOURCE_BRANCH: 'prod', STACKD_SOURCE_TOKEN: TOKEN });
    try {
      const failing = await waitFor('a source error', async () => {
        const { source } = await d.stacks();
        return source.lastError !== null ? source : undefined;
      });
      expect(failing).toMatchObject({
        url: h.server.url('stacks'),
        branch: 'prod',
        lastSuccessAt: null,
        lastError: expect.stringContaining('prod'),
      });
      expect(failing.failingSince).toBe(failing.lastErrorAt);
      const status = await h.cli(['status', '--server', d.url]);
      expect(status.exitCode).toBe(3);
      expect(status.stdout).toMatch(
        /^SOURCE FAILING for \d+s \(http:\/\/127\.0\.0\.1:\d+\/stacks\.git, branch prod; no fetch has succeeded yet\):\n {2}.*prod/,
      );
      // Fixed: the branch exists now; a refresh clears the error and the stack deploys.
      await git(h.repo.workDir, 'push', '--quiet', 'origin', 'HEAD:prod');
      expect((await h.cli(['refresh', '--server', d.url])).exitCode).toBe(0);
      const cleared = await waitFor('the error cleared', async () => {
        const { source } = await d.stacks();
        return source.lastError === null ? source : undefined;
      });
      expect(cleared.failingSince).toBeNull();
      expect(cleared.lastErrorAt).not.toBeNull(); // when the last failure was, kept
      expect(Date.parse(cleared.lastSuccessAt ?? '')).toBeGreaterThan(Date.parse(failing.failingSince ?? ''));
      await waitForStack(d, h.id('web'), 'synced', (s) => s.status === 'synced');
      const ok = await h.cli(['status', '--server', d.url]);
      expect(ok.stdout).not.toContain('SOURCE FAILING');
      expect(ok.exitCode).toBe(0);
    } finally {
      await d.stop();
    }
  });

  it('an expired token: the stack stays reported synced, the source says why fetches fail; renewed, it clears', async () => {
    // Branch prod, as the first test left it: the desired state it fetched is kept on disk.
    const d = await startDaemon(h, { STACKD_SOURCE_BRANCH: 'prod', STACKD_SOURCE_TOKEN: RENEWED });
    try {
      const failing = await waitFor('a source error', async () => {
        const { source } = await d.stacks();
        return source.lastError !== null ? source : undefined;
      });
      expect(failing.lastError).toMatch(/authentication failed \(HTTP 401\)/);
      expect(failing.lastError).not.toContain(RENEWED);
      expect(failing.lastSuccessAt).not.toBeNull(); // the restored state's fetch
      // The desired state kept from the last good fetch: the table alone would look fine.
      const stacks = await d.stacks();
      expect(stacks.stacks.find((s) => s.id === h.id('web'))?.status).toBe('synced');
      const status = await h.cli(['status', '--server', d.url]);
      expect(status.exitCode).toBe(3);
      expect(status.stdout).toMatch(
        /^SOURCE FAILING for \d+s \(.*; last good fetch \S+ ago; stacks are reconciled against it\):\n {2}.*authentication failed \(HTTP 401\)/,
      );
      expect(status.stdout).toMatch(/\nrevision [0-9a-f]{12}\n/);
      expect(status.stdout).toMatch(/srcstatus\/web\s+synced/);
      const detail = await h.cli(['status', h.id('web'), '--server', d.url]);
      expect(detail.exitCode).toBe(3);
      expect(detail.stdout).toMatch(/^SOURCE FAILING .*\n.*\nstack {4}\S+\/web/);
      // The forge now takes the token stackd has (renewed there): the next fetch clears the error,
      // in the same process.
      h.server.setAuth({ username: USER, password: RENEWED });
      expect((await h.cli(['refresh', '--server', d.url])).exitCode).toBe(0);
      const cleared = await waitFor('the error cleared', async () => {
        const { source } = await d.stacks();
        return source.lastError === null ? source : undefined;
      });
      expect(cleared).toMatchObject({ failingSince: null, lastErrorAt: expect.any(String) });
      expect(Date.parse(cleared.lastSuccessAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(failing.lastErrorAt ?? ''),
      );
      expect((await h.cli(['status', '--server', d.url])).exitCode).toBe(0);
    } finally {
      await d.stop();
    }
  });
});
