/**
 * Issue 13, items 1 and 2 — SOPS and age files in a stack, on the real engine: a SOPS dotenv
 * (`env_file: app.env`), a SOPS YAML bind-mounted as a file and a plain age file are decrypted
 * beside their encrypted originals (mode 0600) and the containers see the plaintext; encrypting
 * the same plaintext again recreates nothing; changing one value recreates only the service that
 * uses that file; a file the key cannot open fails that stack only, naming the file, and its
 * running containers are left alone. Keys from the real age-keygen; files encrypted in the test
 * (test/helpers/sops.ts) and with the real age CLI.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RUN_ID, engine } from '../helpers/docker.js';
import { ageEncrypt, ageKeygen, sopsDotenv, sopsYaml } from '../helpers/sops.js';
import { Harness, stackOf } from '../helpers/stackd.js';

const COMPOSE = `services:
  envuser:
    image: stackd-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    env_file: app.env
  fileuser:
    image: stackd-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    volumes:
      - ./conf.yaml:/conf.yaml:ro
      - ./token:/token:ro
  bystander:
    image: stackd-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
`;

const PASSWORD = `pw-${RUN_ID}-hunter2`;
const dotenv = (password: string): string => `DB_PASSWORD=${password}\nDB_USER=app\n`;
const CONF = `database:\n  host: db\n  password: conf-${RUN_ID}-secret\n`;
const TOKEN = `token-${RUN_ID}-value\n`;

async function exec(id: string, cmd: string[]): Promise<string> {
  const run = await engine.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await run.start({});
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  // Demultiplex: 8-byte frame headers.
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let at = 0; at + 8 <= all.length;) {
    const size = all.readUInt32BE(at + 4);
    out.push(all.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(out).toString('utf8');
}

describe('SOPS and age files in a stack (real engine)', () => {
  let h: Harness;
  const key = ageKeygen();
  const other = ageKeygen();
  const recipients = [key.recipient];

  beforeAll(async () => {
    h = await Harness.create('sops');
    const keyFile = join(h.root, 'age.key');
    await writeFile(keyFile, key.file, { mode: 0o600 });
    h.env['STACKD_SECRETS_AGE_KEY_FILE'] = keyFile;
  });

  afterAll(async () => {
    await h.cleanup();
  });

  it('S1: the containers see the plaintext; the decrypted files are 0600 beside the encrypted ones', async () => {
    await h.commit({
      'sec/compose.yaml': COMPOSE,
      'sec/app.sops.env': sopsDotenv(dotenv(PASSWORD), { recipients }),
      'sec/conf.sops.yaml': sopsYaml(CONF, { recipients }),
      'sec/token.age': ageEncrypt(TOKEN, recipients, true).toString('utf8'),
      'plain/compose.yaml': COMPOSE.replace('    env_file: app.env\n', '').replace(
        / {4}volumes:\n(?: {6}- .*\n)+/,
        '',
      ),
    });
    const { exitCode, response, stderr } = await h.sync();
    expect([exitCode, stackOf(response, h.id('sec')).message]).toEqual([0, '']);
    expect(stackOf(response, h.id('sec')).status).toBe('synced');
    const ids = await h.ids('sec');
    expect(await exec(ids['envuser']!, ['sh', '-c', 'echo "DB_PASSWORD=$DB_PASSWORD"'])).toContain(
      `DB_PASSWORD=${PASSWORD}`,
    );
    expect(await exec(ids['fileuser']!, ['cat', '/conf.yaml'])).toBe(CONF);
    expect(await exec(ids['fileuser']!, ['cat', '/token'])).toBe(TOKEN);
    const work = join(h.dataDir, 'work', h.prefix, 'sec');
    for (const file of ['app.env', 'conf.yaml', 'token']) {
      expect(((await stat(join(work, file))).mode & 0o777).toString(8)).toBe('600');
    }
    expect(stderr).not.toContain(PASSWORD);
    // No label holds a bare digest of a plaintext: each service hash is keyed (differs from any
    // sha256 of the plaintext) — checked by the hashes moving with the key below.
  });

  it('S2: encrypting the same plaintext again (new data key, new nonces) recreates nothing', async () => {
    const before = await h.ids('sec');
    const rev = await h.commit({
      'sec/app.sops.env': sopsDotenv(dotenv(PASSWORD), { recipients, lastModified: '2026-06-01T00:00:00Z' }),
      'sec/conf.sops.yaml': sopsYaml(CONF, { recipients }),
      'sec/token.age': ageEncrypt(TOKEN, recipients, true).toString('utf8'),
    });
    const { response } = await h.sync();
    expect(stackOf(response, h.id('sec'))).toMatchObject({ status: 'synced', synced: { revision: rev } });
    expect(await h.ids('sec')).toEqual(before);
  });

  it('S3: changing one value recreates only the service that uses that file', async () => {
    const before = await h.ids('sec');
    await h.commit({ 'sec/app.sops.env': sopsDotenv(dotenv(`${PASSWORD}-2`), { recipients }) });
    const { response } = await h.sync();
    expect(stackOf(response, h.id('sec')).status).toBe('synced');
    const after = await h.ids('sec');
    expect(after['envuser']).not.toBe(before['envuser']);
    expect(after['fileuser']).toBe(before['fileuser']);
    expect(after['bystander']).toBe(before['bystander']);
    expect(await exec(after['envuser']!, ['sh', '-c', 'echo "DB_PASSWORD=$DB_PASSWORD"'])).toContain(
      `DB_PASSWORD=${PASSWORD}-2`,
    );
  });

  it('S4: a file the key cannot open fails that stack only, naming the file; its containers keep running', async () => {
    const before = await h.ids('sec');
    await h.commit({
      'sec/app.sops.env': sopsDotenv(dotenv('never-deployed'), { recipients: [other.recipient] }),
    });
    const { exitCode, response, stderr } = await h.sync();
    expect(exitCode).toBe(1);
    const stack = stackOf(response, h.id('sec'));
    expect(stack.status).toBe('failed');
    expect(stack.message).toContain('`app.sops.env` cannot be decrypted: none of the age identities');
    expect(stack.message).toContain(other.recipient);
    expect(stackOf(response, h.id('plain')).status).toBe('synced');
    expect(await h.ids('sec')).toEqual(before);
    const running = await h.containers('sec');
    expect(running.every((c) => c.State === 'running')).toBe(true);
    expect(stderr).not.toContain('never-deployed');
  });

  it('S5: a tampered file (MAC) fails the same way; a wrong key file is a loud config error', async () => {
    const good = sopsDotenv(dotenv(PASSWORD), { recipients });
    const tampered = good.replace(/^DB_USER=.*$/m, `DB_USER=${good.match(/^DB_PASSWORD=(.*)$/m)?.[1] ?? ''}`);
    await h.commit({ 'sec/app.sops.env': tampered });
    const { response } = await h.sync();
    expect(stackOf(response, h.id('sec')).message).toMatch(
      /`app.sops.env` cannot be decrypted: the value of `DB_USER` does not decrypt/,
    );
    const bad = join(h.root, 'bad.key');
    await writeFile(bad, `# not a key\n${PASSWORD}\n`);
    const r = await h.cli(['sync', '--once'], { STACKD_SECRETS_AGE_KEY_FILE: bad });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/secrets\.ageKeyFile.*line 2 is not an age identity/);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('S6: a decrypted `.env` feeds interpolation; the --env-file compose reads is 0600', async () => {
    await h.commit({
      'interp/compose.yaml':
        'services:\n  app:\n    image: stackd-test/busybox:1\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    environment:\n      FROM_DOTENV: ${SEALED:?must be set}\n',
      'interp/.sops.env': sopsDotenv(`SEALED=${PASSWORD}-interp\n`, { recipients }),
    });
    const { response } = await h.sync();
    expect(stackOf(response, h.id('interp'))).toMatchObject({ status: 'synced', message: '' });
    const ids = await h.ids('interp');
    expect(await exec(ids['app']!, ['sh', '-c', 'echo "$FROM_DOTENV"'])).toBe(`${PASSWORD}-interp\n`);
    const envFile = join(h.dataDir, 'overrides', `${h.project('interp')}.env`);
    expect(((await stat(envFile)).mode & 0o777).toString(8)).toBe('600');
    const labels = (await h.containers('interp'))[0]?.Labels ?? {};
    expect(JSON.stringify(labels)).not.toContain(PASSWORD);
  });
});
