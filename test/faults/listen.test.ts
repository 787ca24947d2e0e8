/**
 * Fault: the listen address is taken. `stackd run` must exit 5 quickly with one clear
 * line (`cannot listen on …: address already in use`), no stack trace, and leave nothing running.
 */
import { type Server, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { CLI, Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace } from './fault-helpers.js';

describe('fault: the listen address is already in use', () => {
  let h: Harness;
  let holder: Server;
  let port: number;

  beforeAll(async () => {
    h = await Harness.create('listen');
    await h.commit({ 'l/compose.yaml': composeFile({ x: {} }) });
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      holder.close(() => {
        resolve();
      });
    });
    await h.cleanup();
  });

  it.each(['json', 'text'])('exits non-zero at once with one clear line (log format %s)', async (format) => {
    const started = Date.now();
    const r = await execa('node', [CLI, 'run'], {
      env: { ...h.env, STACKD_LISTEN: `127.0.0.1:${port}`, STACKD_LOG_FORMAT: format },
      reject: false,
      timeout: 30_000,
    });
    const took = Date.now() - started;
    expect(r.timedOut).toBe(false);
    // 5, "cannot start": the systemd unit does not restart on it (RestartPreventExitStatus=2 5).
    expect(r.exitCode).toBe(5);
    expect(took).toBeLessThan(10_000);
    const lines = r.stderr.split('\n').filter((l) => l.includes('cannot listen on'));
    const message = `cannot listen on 127.0.0.1:${port}: address already in use`;
    if (format === 'text') {
      expect(lines).toEqual([`stackd run: ${message}`]);
    } else {
      // Under json the fatal line is a JSON log line too, and the last one.
      expect(lines).toHaveLength(1);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(lines[0]);
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({
        level: 'error',
        event: 'daemon.fatal',
        message,
        exitCode: r.exitCode,
      });
    }
    expectNoStackTrace(r.stderr);
    expectNoStackTrace(r.stdout);
    // Nothing was deployed by a daemon that could not start.
    expect(await h.containers('l')).toHaveLength(0);
  });
});
