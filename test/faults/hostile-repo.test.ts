/**
 * Fault: hostile content committed to the stacks repository: YAML bombs (billion laughs through
 * aliases, a merge-key bomb, deep nesting) and compose files over the 1 MiB limit (10 MiB, and a
 * 2 MiB override beside a small main file). Those stacks fail quickly with clear messages, the
 * good stack is synced, and the daemon's memory stays bounded throughout.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive } from '../helpers/docker.js';
import { CLI, Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, rssMiB, sleep } from './fault-helpers.js';

const MIB = 1024 * 1024;

/** Nine levels of nine aliases each: 9^9 (~387 million) "lol"s once expanded. */
function billionLaughs(): string {
  const lines = ['x-l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i <= 9; i++)
    lines.push(
      `x-l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return `${composeFile({ s: { extra: 'labels:\n  bomb: "yes"' } })}${lines.join('\n')}\nx-boom: *l9\n`;
}

/** Each anchor merges the one before and adds a key: quadratic work for a naive loader. */
function mergeBomb(): string {
  const lines = ['x-m0: &m0 {k0: 0}'];
  for (let i = 1; i < 20_000; i++) lines.push(`x-m${i}: &m${i} {<<: *m${i - 1}, k${i}: ${i}}`);
  return `${composeFile({ s: {} })}${lines.join('\n')}\n`;
}

function deepNesting(): string {
  return `${composeFile({ s: {} })}x-deep: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`;
}

/** A valid compose file padded to `bytes` with a block scalar. */
function padded(bytes: number, services: Parameters<typeof composeFile>[0]): string {
  const head = `${composeFile(services)}x-padding: |\n`;
  const line = `  ${'p'.repeat(98)}\n`;
  return head + line.repeat(Math.ceil((bytes - head.length) / line.length));
}

describe('fault: YAML bombs and oversized compose files in the repository', () => {
  let h: Harness;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('hostile');
    await h.commit({
      'good/compose.yaml': composeFile({ g: {} }),
      'laughs/compose.yaml': billionLaughs(),
      'merge/compose.yaml': mergeBomb(),
      'deep/compose.yaml': deepNesting(),
      'big/compose.yaml': padded(10 * MIB, { b: {} }),
      'bigoverride/compose.yaml': composeFile({ o: {} }),
      'bigoverride/compose.override.yaml': padded(2 * MIB, { o: {} }),
    });
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('the daemon: bombs and big files fail fast with clear messages, the good stack syncs, memory stays bounded', async () => {
    const started = Date.now();
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const daemon = d;
    let peak = 0;
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        peak = Math.max(peak, await rssMiB(daemon.pid).catch(() => 0));
        await sleep(50);
      }
    })();
    try {
      const expected: Record<string, RegExp> = {
        laughs: /compose\.yaml.*larger than \d+ bytes once aliases are expanded/,
        merge: /compose\.yaml.*merge keys exceeded/,
        deep: /compose\.yaml.*nesting/,
        big: /compose\.yaml.*\d+ bytes, more than the limit of 1048576/,
        bigoverride: /compose\.override\.yaml.*more than the limit of 1048576/,
      };
      for (const [name, message] of Object.entries(expected)) {
        const s = await waitForStack(daemon, h.id(name), 'failed', (x) => x.status === 'failed', 20_000);
        expect([name, s.message]).toEqual([name, expect.stringMatching(message)]);
        expect(s.message.length).toBeLessThan(500);
        expect(s.services).toEqual([]);
        expect(await h.containers(name)).toHaveLength(0);
      }
      await waitForStack(daemon, h.id('good'), 'synced', (s) => s.status === 'synced', 30_000);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect((await daemon.get('/readyz')).status).toBe(200);
      expect(await isAlive(daemon.pid)).toBe(true);
    } finally {
      sampling.on = false;
      await sampler;
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(300);
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
    d = undefined;
  });

  it('stackd validate on the checkout: non-zero, every hostile stack named, quickly', async () => {
    const started = Date.now();
    const r = await execa('node', [CLI, 'validate', join(h.repo.workDir, h.prefix)], {
      reject: false,
      env: { STACKD_LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.exitCode).toBe(1);
    for (const name of ['laughs', 'merge', 'deep', 'big', 'bigoverride'])
      expect(r.stdout).toMatch(`\n${name}: `);
    expect(r.stdout).toMatch(/6 stack\(s\), 5 invalid/);
    expectNoStackTrace(`${r.stdout}\n${r.stderr}`);
  });
});
