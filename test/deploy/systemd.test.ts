/**
 * deploy/systemd: `systemd-analyze verify` accepts the unit (and the run-as-root drop-in) without
 * a single warning, and the unit keeps the promises of deploy/INSTALL.md: user, state directory,
 * credentials for every secret, stop timeout above the reconcile timeout, hardening that leaves
 * the Docker socket usable.
 *
 * verify runs against a temporary root (`--root`): the system's own units copied in, so that
 * sysinit.target and friends resolve, and a stub /usr/local/bin/stackd, because verify insists
 * that ExecStart= exists. Nothing outside the temporary directory is touched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseDuration } from '../../internal/config/index.js';
import { FILE_ENV_VARS, schema } from '../../internal/config/schema.js';
import { DEPLOY, available, exists } from './helpers.js';

const UNIT = join(DEPLOY, 'systemd', 'stackd.service');
const DROP_IN = join(DEPLOY, 'systemd', 'run-as-root.conf');
const SYSTEM_UNITS = '/usr/lib/systemd/system';

/** `Key=value` lines of the unit, by key, in order (comments and sections dropped). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}

/** Every `env` of the convict schema. */
function schemaEnvVars(node: unknown, out: string[] = []): string[] {
  if (typeof node !== 'object' || node === null) return out;
  const env = (node as { env?: unknown }).env;
  if (typeof env === 'string') out.push(env);
  else for (const child of Object.values(node)) schemaEnvVars(child, out);
  return out;
}

/** A temporary root for `systemd-analyze verify --root`. */
async function verifyRoot(dropIn: boolean): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'stackd-systemd-'));
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await mkdir(join(root, 'etc/systemd/system/stackd.service.d'), { recursive: true });
  await cp(SYSTEM_UNITS, join(root, SYSTEM_UNITS), { recursive: true, verbatimSymlinks: true });
  await writeFile(join(root, 'usr/local/bin/stackd'), '#!/bin/sh\nexit 0\n');
  await chmod(join(root, 'usr/local/bin/stackd'), 0o755);
  await cp(UNIT, join(root, 'etc/systemd/system/stackd.service'));
  if (dropIn) await cp(DROP_IN, join(root, 'etc/systemd/system/stackd.service.d/run-as-root.conf'));
  return root;
}

async function verify(root: string): Promise<{ exitCode: number | undefined; output: string }> {
  const result = await execa('systemd-analyze', ['verify', `--root=${root}`, 'stackd.service'], {
    reject: false,
    all: true,
  });
  return { exitCode: result.exitCode, output: result.all.trim() };
}

let unit: Map<string, string[]>;
let hasVerify = false;
const roots: string[] = [];

beforeAll(async () => {
  unit = directives(await readFile(UNIT, 'utf8'));
  hasVerify = (await available('systemd-analyze', '--version')) && (await exists(SYSTEM_UNITS));
  if (!hasVerify) {
    // Not skipped silently: this is the reason, and the assertion below fails the run.
    console.error('systemd-analyze or /usr/lib/systemd/system is missing: apt-get install -y systemd');
  }
});

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('deploy/systemd/stackd.service', () => {
  it('passes systemd-analyze verify without warnings', async () => {
    expect(hasVerify).toBe(true);
    const root = await verifyRoot(false);
    roots.push(root);
    const result = await verify(root);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('passes systemd-analyze verify with the run-as-root drop-in', async () => {
    expect(hasVerify).toBe(true);
    const root = await verifyRoot(true);
    roots.push(root);
    const result = await verify(root);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('fails verify when ExecStart is missing (the check is real)', async () => {
    expect(hasVerify).toBe(true);
    const root = await verifyRoot(false);
    roots.push(root);
    await rm(join(root, 'usr/local/bin/stackd'));
    const result = await verify(root);
    expect(result.output).toContain('/usr/local/bin/stackd');
    expect(result.exitCode).not.toBe(0);
  });

  it('runs stackd as the stackd user in the docker group, with its state in /var/lib/stackd', () => {
    expect(unit.get('User')).toEqual(['stackd']);
    expect(unit.get('SupplementaryGroups')).toEqual(['docker']);
    expect(unit.get('StateDirectory')).toEqual(['stackd']);
    expect(unit.get('ExecStart')).toEqual(['/usr/local/bin/stackd run --config /etc/stackd/config.yaml']);
    expect(unit.get('EnvironmentFile')).toEqual(['-/etc/stackd/stackd.env']);
    const env = unit.get('Environment') ?? [];
    expect(env).toContain('STACKD_DATA_DIR=/var/lib/stackd');
    // HOME is not the state directory, where a plugin could be planted (compose gets DOCKER_CONFIG).
    expect(env).toContain('HOME=/nonexistent');
    expect(env.some((e) => e.startsWith('HOME=/var/lib'))).toBe(false);
    expect(unit.get('ReadWritePaths')).toEqual(['/var/lib/stackd']);
  });

  it('names only environment variables that stackd reads', () => {
    const known = new Set([...schemaEnvVars(schema), ...FILE_ENV_VARS.map((v) => `${v}_FILE`)]);
    for (const assignment of unit.get('Environment') ?? []) {
      for (const [, name] of assignment.matchAll(/(?:^|\s)(STACKD_[A-Z_]+)=/g)) {
        expect([name, known.has(name ?? '')]).toEqual([name, true]);
      }
    }
  });

  it('passes every secret as an optional credential through its _FILE variable', () => {
    const env = unit.get('Environment') ?? [];
    const load = unit.get('LoadCredential') ?? [];
    const set = unit.get('SetCredential') ?? [];
    const secrets = [
      ['STACKD_SOURCE_TOKEN_FILE', 'source-token'],
      ['STACKD_API_TOKEN_FILE', 'api-token'],
      ['STACKD_WEBHOOK_SECRET_FILE', 'webhook-secret'],
      ['STACKD_WEBHOOK_GITLAB_TOKEN_FILE', 'webhook-gitlab-token'],
      ['STACKD_WEBHOOK_REGISTRY_TOKEN_FILE', 'webhook-registry-token'],
      // A file of registry logins (registry.authFile), not a `_FILE` variant of one value.
      ['STACKD_REGISTRY_AUTH_FILE', 'registry-auth'],
    ];
    for (const [variable, id] of secrets) {
      expect(env).toContain(`${variable}=%d/${id}`);
      expect(load).toContain(`${id}:/etc/stackd/${id}`);
      // The fallback when the file is missing: a lone newline, which stackd reads as "not set".
      expect(set).toContain(`${id}:\\n`);
    }
  });

  it('passes the age identity file as an optional credential (a path variable, empty by default)', () => {
    expect(unit.get('Environment')).toContain('STACKD_SECRETS_AGE_KEY_FILE=%d/age-key');
    expect(unit.get('LoadCredential')).toContain('age-key:/etc/stackd/age-key');
    expect(unit.get('SetCredential')).toContain('age-key:\\n');
  });

  it('restarts on failure but not on a bad configuration or when it cannot start, and outlasts a reconcile when stopping', () => {
    expect(unit.get('Restart')).toEqual(['on-failure']);
    expect(unit.get('RestartSec')).toEqual(['5s']);
    // 2: bad configuration or usage; 5: the listen address is in use or dataDir is locked.
    expect(unit.get('RestartPreventExitStatus')).toEqual(['2 5']);
    expect(unit.get('KillMode')).toEqual(['mixed']);
    const stop = parseDuration(unit.get('TimeoutStopSec')?.[0] ?? '0');
    expect(stop).toBeGreaterThan(schema.reconcile.timeout.default);
  });

  it('logs JSON to the journal', () => {
    expect(unit.get('StandardOutput')).toEqual(['journal']);
    expect(unit.get('StandardError')).toEqual(['journal']);
    expect(unit.get('Environment')).toContain('STACKD_LOG_FORMAT=json');
  });

  it('is hardened, without the settings that break docker compose or Node.js', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'read-only'],
      ['PrivateTmp', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['LockPersonality', 'yes'],
      ['RestrictRealtime', 'yes'],
      ['SystemCallArchitectures', 'native'],
    ]) {
      expect([key, unit.get(key ?? '')]).toEqual([key, [value]]);
    }
    for (const key of [
      'PrivateNetwork',
      'PrivateDevices',
      'DevicePolicy',
      'MemoryDenyWriteExecute',
      'PrivateUsers',
    ]) {
      expect([key, unit.get(key)]).toEqual([key, undefined]);
    }
    expect(unit.get('RestrictAddressFamilies')?.[0]).toContain('AF_UNIX');
  });
});
