import { describe, expect, it } from '@jest/globals';
import { decryptSops as sopsAge } from 'sops-age';
import { parse } from 'yaml';
import {
  ageEncrypt,
  ageKeygen,
  sopsBinary,
  sopsDotenv,
  sopsJson,
  sopsYaml,
} from '../../test/helpers/sops.js';
import { SopsError, checkAgeFile, checkSops, decryptAge, decryptSops, encryptedFileOf } from './index.js';

const alice = ageKeygen();
const bob = ageKeygen();
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

const DOTENV =
  'DB_PASSWORD=hunter2-secret\n# a plain comment\nAPI_KEY=k=v with spaces\nMULTI=line1\\nline2\nEMPTY=\n';

describe('SOPS dotenv', () => {
  it('decrypts to the plaintext `sops decrypt` prints, with any of several identities', async () => {
    const file = sopsDotenv(DOTENV, { recipients: [bob.recipient, alice.recipient] });
    expect(file).not.toContain('hunter2');
    expect(file).toContain('sops_age__list_1__map_recipient=');
    const plain = await decryptSops('dotenv', bytes(file), [alice.identity]);
    expect(text(plain)).toBe(DOTENV);
    expect(text(await decryptSops('dotenv', bytes(file), [bob.identity]))).toBe(DOTENV);
  });

  it('an independent SOPS implementation (sops-age) reads the same values from the test fixtures', async () => {
    const file = sopsDotenv(DOTENV, { recipients: [alice.recipient] });
    const values = (await sopsAge(file, { secretKey: alice.identity, fileType: 'env' })) as Record<
      string,
      string
    >;
    expect(values).toMatchObject({
      DB_PASSWORD: 'hunter2-secret',
      API_KEY: 'k=v with spaces',
      MULTI: 'line1\nline2',
    });
    const yaml = sopsYaml('db:\n  password: s3cret\n  port: 5432\n', { recipients: [alice.recipient] });
    expect(await sopsAge(yaml, { secretKey: alice.identity, fileType: 'yaml' })).toEqual({
      db: { password: 's3cret', port: 5432 },
    });
  });

  it('a wrong key names the recipients and never the values', async () => {
    const file = sopsDotenv(DOTENV, { recipients: [alice.recipient] });
    const error = await decryptSops('dotenv', bytes(file), [bob.identity]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SopsError);
    expect((error as Error).message).toContain(alice.recipient);
    expect((error as Error).message).toMatch(/none of the age identities/);
    await expect(decryptSops('dotenv', bytes(file), [])).rejects.toThrow(/no age identity is configured/);
  });

  it('a value changed, swapped between keys, added or removed after encryption is refused', async () => {
    const file = sopsDotenv(DOTENV, { recipients: [alice.recipient] });
    const lines = file.split('\n');
    const db = lines.findIndex((l) => l.startsWith('DB_PASSWORD='));
    const api = lines.findIndex((l) => l.startsWith('API_KEY='));
    const swapped = [...lines];
    swapped[db] = `DB_PASSWORD=${lines[api]!.slice('API_KEY='.length)}`;
    await expect(decryptSops('dotenv', bytes(swapped.join('\n')), [alice.identity])).rejects.toThrow(
      /value of `DB_PASSWORD` does not decrypt/,
    );
    const removed = lines.filter((_, i) => i !== api).join('\n');
    await expect(decryptSops('dotenv', bytes(removed), [alice.identity])).rejects.toThrow(
      /MAC does not match/,
    );
    const added = `PLAIN_unencrypted=x\n${file}`;
    await expect(decryptSops('dotenv', bytes(added), [alice.identity])).rejects.toThrow(/MAC does not match/);
    const plainValue = file.replace(/^DB_PASSWORD=.*$/m, 'DB_PASSWORD=not-encrypted');
    await expect(decryptSops('dotenv', bytes(plainValue), [alice.identity])).rejects.toThrow(
      /`DB_PASSWORD` is not an ENC/,
    );
    const macTouched = file.replace(/^sops_lastmodified=.*$/m, 'sops_lastmodified=2030-01-01T00:00:00Z');
    await expect(decryptSops('dotenv', bytes(macTouched), [alice.identity])).rejects.toThrow(
      /MAC does not decrypt/,
    );
  });

  it('values under the unencrypted suffix stay plain and still count in the MAC', async () => {
    const file = sopsDotenv('HOST_unencrypted=db.local\nPASSWORD=p\n', { recipients: [alice.recipient] });
    expect(file).toContain('HOST_unencrypted=db.local');
    expect(text(await decryptSops('dotenv', bytes(file), [alice.identity]))).toBe(
      'HOST_unencrypted=db.local\nPASSWORD=p\n',
    );
    const changed = file.replace('db.local', 'evil.example');
    await expect(decryptSops('dotenv', bytes(changed), [alice.identity])).rejects.toThrow(
      /MAC does not match/,
    );
  });
});

describe('SOPS YAML, JSON and binary', () => {
  it('YAML keeps order, types and plain comments; drops the metadata', async () => {
    const source =
      '# settings\ndb:\n  user: app\n  password: "1234"\n  port: 5432\n  tls: true\nlist:\n  - a\n  - 2.5\n';
    const file = sopsYaml(source, { recipients: [alice.recipient] });
    expect(file).not.toMatch(/password: "?1234/);
    const plain = text(await decryptSops('yaml', bytes(file), [alice.identity]));
    expect(parse(plain)).toEqual({
      db: { user: 'app', password: '1234', port: 5432, tls: true },
      list: ['a', 2.5],
    });
    expect(plain).not.toContain('sops');
    expect(plain).toContain('# settings');
  });

  it('JSON and binary files decrypt to their plaintext', async () => {
    const json = sopsJson({ token: 'abc', nested: { n: 3, ok: false } }, { recipients: [alice.recipient] });
    expect(JSON.parse(text(await decryptSops('json', bytes(json), [alice.identity])))).toEqual({
      token: 'abc',
      nested: { n: 3, ok: false },
    });
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';
    const binary = sopsBinary(pem, { recipients: [alice.recipient] });
    expect(text(await decryptSops('binary', bytes(binary), [alice.identity]))).toBe(pem);
  });

  it('a YAML value moved to another key is refused (its path is authenticated)', async () => {
    const file = sopsYaml('a: one\nb: two\n', { recipients: [alice.recipient] });
    const doc = parse(file) as Record<string, unknown>;
    const moved = file.replace(`a: ${String(doc['a'])}`, `a: ${String(doc['b'])}`);
    await expect(decryptSops('yaml', bytes(moved), [alice.identity])).rejects.toThrow(
      /value of `a` does not decrypt/,
    );
  });
});

describe('checks without the key', () => {
  it('a well-formed file passes and lists its recipients', () => {
    const file = sopsDotenv(DOTENV, { recipients: [alice.recipient, bob.recipient] });
    expect(checkSops('dotenv', bytes(file))).toEqual([alice.recipient, bob.recipient]);
  });

  it('a plain file, a plain value and a PGP-only file are refused, saying why', () => {
    expect(() => checkSops('dotenv', bytes('A=b\n'))).toThrow(/no `sops` metadata/);
    const file = sopsYaml('a: one\n', { recipients: [alice.recipient] });
    expect(() => checkSops('yaml', bytes(file.replace(/^a: .*$/m, 'a: plain')))).toThrow(
      /`a` is not encrypted/,
    );
    const pgp =
      'a: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\nsops:\n  pgp:\n    - fp: ABC\n  lastmodified: "2026-01-01T00:00:00Z"\n  mac: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n';
    expect(() => checkSops('yaml', bytes(pgp))).toThrow(/encrypted for pgp only; stackd decrypts age/);
    expect(() => checkSops('json', bytes('{"a": '))).toThrow(/not valid JSON/);
  });
});

describe('plain age files', () => {
  it('binary and armored age files decrypt; a wrong key or damage is refused', async () => {
    const secret = 'top-secret-value\n';
    for (const armored of [false, true]) {
      const file = ageEncrypt(secret, [alice.recipient], armored);
      checkAgeFile(file);
      expect(text(await decryptAge(file, [bob.identity, alice.identity]))).toBe(secret);
      await expect(decryptAge(file, [bob.identity])).rejects.toThrow(/none of the age identities/);
    }
    const damaged = Buffer.from(ageEncrypt(secret, [alice.recipient]));
    const at = damaged.length - 3;
    damaged.writeUInt8(damaged.readUInt8(at) ^ 1, at);
    await expect(decryptAge(damaged, [alice.identity])).rejects.toThrow(/damaged or was changed/);
    expect(() => {
      checkAgeFile(bytes('hello'));
    }).toThrow(/not an age file/);
  });
});

describe('names', () => {
  it.each([
    ['app.sops.env', 'app.env', 'dotenv'],
    ['.sops.env', '.env', 'dotenv'],
    ['conf/db.sops.yaml', 'conf/db.yaml', 'yaml'],
    ['x.sops.yml', 'x.yml', 'yaml'],
    ['x.sops.json', 'x.json', 'json'],
    ['certs/tls.key.sops', 'certs/tls.key', 'binary'],
    ['token.age', 'token', 'age'],
  ])('%s → %s (%s)', (path, plain, format) => {
    expect(encryptedFileOf(path)).toEqual({ plain, format });
  });

  it.each(['.sops.yaml', 'app.env', 'sops.env', 'a/.sops.yml', 'x.ages', '.age'])(
    '%s is not encrypted',
    (path) => {
      expect(encryptedFileOf(path)).toBeUndefined();
    },
  );
});
