import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../internal/config/index.js';
import { LogEvent } from '../../internal/log/index.js';
import type { Io } from './cli.js';
import { loggerFor, secretsOf } from './logger.js';

describe('secretsOf: registry.authFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-logger-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("redacts the auth file's passwords and logins from every line", async () => {
    const file = join(dir, 'registry-auth');
    const auth = Buffer.from('ci:hub-pass-5678').toString('base64');
    await writeFile(
      file,
      JSON.stringify({
        auths: {
          'reg.example.com': { username: 'deploy', password: 'reg-pass-1234' },
          'docker.io': { auth },
        },
      }),
    );
    const config = loadConfig({ env: { STACKD_REGISTRY_AUTH_FILE: file } });
    expect(secretsOf(config)).toEqual(expect.arrayContaining(['reg-pass-1234', 'hub-pass-5678', auth]));
    const stderr = new PassThrough();
    let out = '';
    stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const io = { stderr, stdout: new PassThrough(), env: {} } as unknown as Io;
    loggerFor(config, io).warn('compose said reg-pass-1234 and hub-pass-5678', {
      event: LogEvent.composeRun,
      config: `{"auth":"${auth}"}`,
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toContain('compose said *** and ***');
    expect(out).not.toContain('reg-pass-1234');
    expect(out).not.toContain('hub-pass-5678');
    expect(out).not.toContain(auth);
  });
});
