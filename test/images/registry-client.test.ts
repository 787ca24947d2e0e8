/**
 * RegistryClient against a real registry: Debian's docker-registry on loopback with htpasswd
 * basic auth (test/helpers/registry.ts), images pushed by the real engine. The digest it answers
 * is the one `docker inspect` records in RepoDigests after the push, it follows a re-push of the
 * tag, it uses the logins `docker login` wrote, a wrong password is `denied`, no blob is ever
 * asked for (the registry's access log), and a stopped registry is `unreachable`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { parseReference } from '../../internal/images/reference.js';
import { RegistryCheckError, RegistryClient } from '../../internal/images/registry_client.js';
import { parseRegistryAuth } from '../../internal/registry/index.js';
import { IMAGE_V1, IMAGE_V2, RUN_ID } from '../helpers/docker.js';
import { loginFile, startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('RegistryClient against a real registry', () => {
  let registry: TestRegistry;
  let closed = false;
  const repository = `stackd-${RUN_ID}/digest`;
  const tagged: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ accessLog: true });
  });

  afterAll(async () => {
    for (const ref of tagged) await execa('docker', ['rmi', ref], { reject: false });
    if (!closed) await registry.close();
  });

  /** Pushes `image` as `ref`; returns the digest of `ref`'s repository that docker inspect records. */
  const push = async (image: string, ref: string): Promise<string> => {
    tagged.push(ref);
    await execa('docker', ['tag', image, ref]);
    await execa('docker', ['push', ref], { env: { DOCKER_CONFIG: registry.dockerConfig } });
    const out = await execa('docker', ['inspect', '--format', '{{json .RepoDigests}}', ref]);
    const digests = (JSON.parse(out.stdout) as string[]).filter((d) =>
      d.startsWith(`${registry.host}/${repository}@`),
    );
    expect(digests).toHaveLength(1);
    return digests[0]!.split('@')[1]!;
  };

  const logins = async () => parseRegistryAuth(await loginFile(registry), 'config.json').logins;

  it('answers the RepoDigests digest of the push, follows a re-push, never asks for a blob', async () => {
    const ref = `${registry.host}/${repository}:1`;
    const first = await push(IMAGE_V1, ref);
    const map = await logins();
    const client = new RegistryClient({ logins: () => map });
    const logStart = registry.log().length;
    await expect(client.headDigest(parseReference(ref)!)).resolves.toBe(first);
    const second = await push(IMAGE_V2, ref);
    expect(second).not.toBe(first);
    const checksFrom = registry.log().length;
    await expect(client.headDigest(parseReference(ref)!)).resolves.toBe(second);
    // The access log line is written after the answer: wait for it.
    for (let i = 0; i < 100 && !/manifests\/1 /.test(registry.log().slice(checksFrom)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const log = registry.log();
    const checks = log.slice(checksFrom);
    if (!checks.includes('HEAD')) process.stdout.write(log.slice(-3000));
    expect(checks).toMatch(/"HEAD \/v2\/[^"]*\/manifests\/1 /);
    expect(
      log
        .slice(logStart)
        .split('\n')
        .filter((l) => / \/v2\/[^ ]*\/blobs\//.test(l) && l.includes('"GET ')),
    ).toEqual([]);
    expect(checks).not.toMatch(/"GET /);
  });

  it('is denied with a wrong password or none, naming no secret', async () => {
    const ref = parseReference(`${registry.host}/${repository}:1`)!;
    const wrong = `wrong-${RUN_ID}`;
    const auth = Buffer.from(`${registry.username}:${wrong}`).toString('base64');
    const client = new RegistryClient({ logins: () => new Map([[registry.host, { auth }]]) });
    const error = await client.headDigest(ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryCheckError);
    expect((error as RegistryCheckError).kind).toBe('denied');
    expect((error as Error).message).not.toContain(wrong);
    expect((error as Error).message).not.toContain(auth);
    const anonymous = await new RegistryClient().headDigest(ref).catch((e: unknown) => e);
    expect((anonymous as RegistryCheckError).kind).toBe('denied');
    const missing = await new RegistryClient({ logins: await logins().then((m) => () => m) })
      .headDigest(parseReference(`${registry.host}/${repository}:nothere`)!)
      .catch((e: unknown) => e);
    expect((missing as RegistryCheckError).kind).toBe('not_found');
  });

  it('says unreachable once the registry is stopped', async () => {
    const map = await logins();
    closed = true;
    await registry.close();
    const error = await new RegistryClient({ logins: () => map })
      .headDigest(parseReference(`${registry.host}/${repository}:1`)!)
      .catch((e: unknown) => e);
    expect((error as RegistryCheckError).kind).toBe('unreachable');
  });
});
