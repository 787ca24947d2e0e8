import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/index.js';
import { RegistryAuthError, parseRegistryAuth, readRegistryAuth } from './auth_file.js';

const PASSWORD = 'Pa55-w0rd-never-shown';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** The error `parseRegistryAuth` throws for `text` (which must fail). */
function failure(text: string): string {
  try {
    parseRegistryAuth(text, '/etc/stackd/registry-auth');
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryAuthError);
    return (error as Error).message;
  }
  throw new Error('expected a RegistryAuthError');
}

describe('parseRegistryAuth', () => {
  it('reads what docker login writes (tabs and all) and keeps every credential as a secret', () => {
    const text = `{\n\t"auths": {\n\t\t"localhost:5000": {\n\t\t\t"auth": "${b64(`user:${PASSWORD}`)}"\n\t\t}\n\t}\n}\n`;
    const parsed = parseRegistryAuth(text, 'f');
    expect([...parsed.logins]).toEqual([['localhost:5000', { auth: b64(`user:${PASSWORD}`) }]]);
    expect(parsed.secrets).toEqual(expect.arrayContaining([PASSWORD, b64(`user:${PASSWORD}`)]));
  });

  it('reads username and password spelled out, in JSON or YAML, and writes them as auth', () => {
    const json = parseRegistryAuth(
      JSON.stringify({ auths: { 'reg.example.com': { username: 'u', password: PASSWORD } } }),
      'f',
    );
    const yaml = parseRegistryAuth(
      `auths:\n  reg.example.com:\n    username: u\n    password: "${PASSWORD}"\n`,
      'f',
    );
    expect(json.logins.get('reg.example.com')).toEqual({ auth: b64(`u:${PASSWORD}`) });
    expect(yaml.logins).toEqual(json.logins);
    expect(yaml.secrets).toContain(PASSWORD);
  });

  it('keeps an identity token, ignores email and serveraddress, and the keys of a copied config.json', () => {
    const parsed = parseRegistryAuth(
      JSON.stringify({
        auths: { r: { auth: b64('u:'), identitytoken: 'id-token-1234', email: 'a@b', serveraddress: 'r' } },
        psFormat: 'table',
      }),
      'f',
    );
    expect(parsed.logins.get('r')).toEqual({ auth: b64('u:'), identitytoken: 'id-token-1234' });
    expect(parsed.secrets).toContain('id-token-1234');
  });

  it.each([[''], ['\n'], ['  \n'], ['{}'], ['{"auths": {}}'], ['# nothing\n']])(
    'reads %j as no logins (systemd gives a lone newline when the credential is missing)',
    (text) => {
      expect(parseRegistryAuth(text, 'f').logins.size).toBe(0);
    },
  );

  it.each([
    [`{"auths": {"r": {"auth": "${PASSWORD}"`, /not valid JSON \(at character \d+\)/],
    [`auths:\n  r: {auth: [${PASSWORD}\n`, /not valid YAML \(line \d+, column \d+/],
    [`- ${PASSWORD}`, /expected a mapping with "auths", got a list/],
    [`{"r": {"username": "u", "password": "${PASSWORD}"}}`, /no "auths" mapping/],
    ['{"auths": []}', /"auths": expected a mapping of registries, got a list/],
    [`{"auths": {"r": "${PASSWORD}"}}`, /auths\."r": expected a mapping/],
    ['{"auths": {"r": {}}}', /auths\."r": no credentials/],
    [
      '{"auths": {"r": {"auth": ""}}}',
      /"auth" is empty: docker login kept the password in a credential helper/,
    ],
    [`{"auths": {"r": {"auth": "not base64 ${PASSWORD}!"}}}`, /auths\."r"\.auth: not base64/],
    [`{"auths": {"r": {"auth": "${b64(PASSWORD)}"}}}`, /the decoded value has no ":"/],
    [`{"auths": {"r": {"username": "u"}}}`, /auths\."r": the password is empty/],
    [`{"auths": {"r": {"password": "${PASSWORD}"}}}`, /auths\."r": the user name is empty/],
    [
      `{"auths": {"r": {"username": "u", "password": 12345678}}}`,
      /auths\."r"\.password: expected a string, got a number/,
    ],
    [
      `{"auths": {"r": {"auth": "${b64(`u:${PASSWORD}`)}", "password": "${PASSWORD}"}}}`,
      /either "auth" or "username" and "password"/,
    ],
    [`{"auths": {"r": {"auth": "${b64(`u:${PASSWORD}`)}", "token": "x"}}}`, /unknown key "token"/],
    [`{"auths": {"a b": {"username": "u", "password": "${PASSWORD}"}}}`, /a registry name holds white space/],
    [`{"auths": {"r": {"auth": ""}}, "credsStore": "desktop"}`, /"credsStore" names a credential helper/],
    ['{"credHelpers": {"r": "ecr-login"}}', /"credHelpers" names a credential helper/],
  ])('refuses %j, naming the file and what is wrong, never the content', (text, expected) => {
    const message = failure(text);
    expect(message).toMatch(/^registry auth file \/etc\/stackd\/registry-auth: /);
    expect(message).toMatch(expected);
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain(b64(PASSWORD));
  });
});

describe('registry.authFile in the configuration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-registry-auth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is empty by default and read from STACKD_REGISTRY_AUTH_FILE', async () => {
    expect(loadConfig({ env: {} }).registry.authFile).toBe('');
    const file = join(dir, 'ok');
    await writeFile(file, JSON.stringify({ auths: { r: { username: 'u', password: PASSWORD } } }));
    expect(loadConfig({ env: { STACKD_REGISTRY_AUTH_FILE: file } }).registry.authFile).toBe(file);
    expect(readRegistryAuth(file).logins.size).toBe(1);
  });

  it('fails the configuration (exit 2) on a missing or malformed file, naming the variable and the file', async () => {
    const missing = join(dir, 'missing');
    expect(() => loadConfig({ env: { STACKD_REGISTRY_AUTH_FILE: missing } })).toThrow(
      `registry.authFile (STACKD_REGISTRY_AUTH_FILE): registry auth file ${missing}: cannot read it (ENOENT)`,
    );
    const bad = join(dir, 'bad');
    await writeFile(bad, `{"auths": {"r": {"password": "${PASSWORD}"}}}`);
    let caught: unknown;
    try {
      loadConfig({ env: { STACKD_REGISTRY_AUTH_FILE: bad } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: 'ConfigError', exitCode: 2 });
    expect((caught as Error).message).toContain(
      `registry auth file ${bad}: auths."r": the user name is empty`,
    );
    expect((caught as Error).message).not.toContain(PASSWORD);
    expect(() => loadConfig({ env: { STACKD_REGISTRY_AUTH_FILE: dir } })).toThrow(
      /cannot read it \(EISDIR\)/,
    );
  });
});
