/**
 * The differential harness: one project state (a map of files) written to a stack directory, seen
 * twice — by `docker compose` run the way a user runs it in that directory (no `-f`: compose finds
 * the files and reads `.env` itself), and by stackd's own discovery, parsing and hashing
 * (`validateDirectory`, what `stackd validate DIR` runs) — and two states compared per service.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import PQueue from 'p-queue';
import { validateDirectory } from '../../internal/source/validate.js';

/** A project: file path relative to the stack directory → content. */
export type Files = Readonly<Record<string, string>>;

/** The stack's directory name under the source root: its id, and the compose project name. */
export const STACK = 'app';

/** At most this many compose processes at once. */
const composeQueue = new PQueue({ concurrency: 2 });

/**
 * compose's environment: nothing from the test's own (no COMPOSE_FILE, COMPOSE_PROFILES,
 * COMPOSE_PROJECT_NAME or variable a fixture interpolates), only what finds the CLI and its plugin.
 */
function composeEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  for (const key of ['HOME', 'DOCKER_CONFIG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** How compose is run: `docker compose`, or its plugin binary directly (same program, half the cost). */
let command: readonly string[] = ['docker', 'compose'];

/** `docker compose version --short`, once composeMissing found it. */
export let composeVersion = 'unknown';

/**
 * Why compose cannot be run here, or undefined when `docker compose version` works. Also picks
 * the plugin binary `docker compose` runs, when it is found where the docker CLI looks first and
 * reports the same version: the CLI runs every plugin twice (its metadata, then the command).
 */
export async function composeMissing(): Promise<string | undefined> {
  const version = async (argv: readonly string[]) =>
    execa(argv[0]!, [...argv.slice(1), 'version', '--short'], {
      reject: false,
      extendEnv: false,
      env: composeEnv(),
      timeout: 20_000,
    });
  const r = await version(['docker', 'compose']);
  if (r.exitCode !== 0) {
    return `\`docker compose version\` failed (${r.exitCode ?? 'no exit code'}): ${(r.stderr || (r.message ?? '')).trim()}`;
  }
  composeVersion = r.stdout.trim();
  const home = process.env['HOME'];
  const dirs = [process.env['DOCKER_CONFIG'] ?? (home === undefined ? undefined : join(home, '.docker'))].map(
    (d) => (d === undefined ? undefined : join(d, 'cli-plugins')),
  );
  dirs.push(
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
  );
  for (const dir of dirs) {
    if (dir === undefined) continue;
    const plugin = join(dir, 'docker-compose');
    const direct = await version([plugin]).catch(() => undefined);
    if (direct === undefined || direct.exitCode !== 0) continue;
    if (direct.stdout.trim() === r.stdout.trim()) command = [plugin];
    break;
  }
  return undefined;
}

async function compose(dir: string, args: readonly string[]): Promise<string> {
  return composeQueue.add(async () => {
    const argv = [...command.slice(1), '--project-directory', dir, '-p', STACK, ...args];
    const r = await execa(command[0]!, argv, {
      cwd: dir,
      reject: false,
      extendEnv: false,
      env: composeEnv(),
      timeout: 30_000,
    });
    if (r.exitCode !== 0) {
      throw new Error(`docker compose ${args.join(' ')} failed in ${dir}: ${r.stderr.trim()}`);
    }
    return r.stdout;
  });
}

/** Replace the stack directory's content with `files`. */
export async function writeProject(stackDir: string, files: Files): Promise<void> {
  await rm(stackDir, { recursive: true, force: true });
  await mkdir(stackDir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const full = join(stackDir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

/** What compose makes of one service. */
export interface ComposeService {
  /** `config --hash` of the service, with the environment `up` resolves from `env_file` appended. */
  readonly hash: string;
  /** Files (relative to the stack directory) whose content the service reads and compose does not hash. */
  readonly references: readonly string[];
  /** Top-level resources the service uses (`networks:front`, `volumes:data`, …) → their definition. */
  readonly resources: Readonly<Record<string, string>>;
}

export interface ComposeView {
  /** Services `compose up` would run (active profiles, at least one replica), by name. */
  readonly services: ReadonlyMap<string, ComposeService>;
  /** sha256 of every file of the stack directory, by relative path. */
  readonly files: ReadonlyMap<string, string>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/**
 * compose's view of the project in `stackDir`. Three read-only runs: `config --hash='*'` (the
 * per-service config hash compose labels containers with), `config --format json` (the resolved
 * model: scale, the environment `up` resolves from `env_file` — `config --hash` leaves it out
 * although `up` recreates for it — bind sources, build contexts, config/secret files, top-level
 * definitions) and `config --no-interpolate --format json` (the `env_file`/`label_file` paths,
 * which the resolved model has already read and dropped).
 */
export async function composeView(stackDir: string): Promise<ComposeView> {
  const files = await fileHashes(stackDir);
  // The third run only when some file can name an env_file or label_file (it saves a third).
  const [hashes, resolvedText, rawText] = await Promise.all([
    compose(stackDir, ['config', '--hash=*']),
    compose(stackDir, ['config', '--format', 'json']),
    files.mentionsFileKeys ? compose(stackDir, ['config', '--no-interpolate', '--format', 'json']) : '{}',
  ]);
  const resolved = JSON.parse(resolvedText) as Obj;
  const raw = JSON.parse(rawText) as Obj;
  const resolvedServices = isObj(resolved['services']) ? resolved['services'] : {};
  const rawServices = isObj(raw['services']) ? raw['services'] : {};
  const inStack = (abs: unknown): string | undefined => {
    if (typeof abs !== 'string' || abs === '') return undefined;
    const rel = relative(stackDir, abs);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
    return rel === '' ? '.' : rel.split(sep).join('/');
  };
  const services = new Map<string, ComposeService>();
  for (const line of hashes.split('\n')) {
    const [name, hash] = line.trim().split(/\s+/);
    if (name === undefined || name === '' || hash === undefined) continue;
    const model = resolvedServices[name];
    if (!isObj(model)) throw new Error(`compose hashed service ${name} but its model lacks it`);
    if (replicas(model) === 0) continue;
    const references = new Set<string>();
    const add = (abs: unknown): void => {
      const rel = inStack(abs);
      if (rel !== undefined) references.add(rel);
    };
    const rawModel = rawServices[name];
    if (isObj(rawModel)) {
      for (const item of list(rawModel['env_file'])) add(isObj(item) ? item['path'] : item);
      for (const item of list(rawModel['label_file'])) add(item);
    }
    const resources: Record<string, string> = {};
    const use = (section: string, key: unknown): void => {
      if (typeof key !== 'string') return;
      const top = resolved[section];
      const definition = isObj(top) ? top[key] : undefined;
      resources[`${section}:${key}`] = JSON.stringify(definition ?? null);
      if (isObj(definition) && (section === 'configs' || section === 'secrets')) add(definition['file']);
    };
    for (const volume of list(model['volumes'])) {
      if (!isObj(volume)) continue;
      if (volume['type'] === 'bind') add(volume['source']);
      if (volume['type'] === 'volume') use('volumes', volume['source']);
    }
    const build = model['build'];
    if (isObj(build) && typeof build['context'] === 'string') {
      add(build['context']);
      if (typeof build['dockerfile'] === 'string') add(join(build['context'], build['dockerfile']));
    }
    for (const net of Object.keys(isObj(model['networks']) ? model['networks'] : {})) use('networks', net);
    for (const section of ['configs', 'secrets']) {
      for (const item of list(model[section])) use(section, isObj(item) ? item['source'] : item);
    }
    const environment = JSON.stringify(sortedEntries(model['environment']));
    services.set(name, {
      hash: sha256(`${hash}\n${environment}`),
      references: [...references].sort(),
      resources,
    });
  }
  return { services, files: files.hashes };
}

function replicas(model: Obj): number | undefined {
  const deploy = model['deploy'];
  const value = (isObj(deploy) ? deploy['replicas'] : undefined) ?? model['scale'];
  return typeof value === 'number' ? value : undefined;
}

function sortedEntries(value: unknown): [string, unknown][] {
  return isObj(value) ? Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

async function fileHashes(root: string): Promise<{ hashes: Map<string, string>; mentionsFileKeys: boolean }> {
  const hashes = new Map<string, string>();
  let mentionsFileKeys = false;
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      const content = await readFile(join(root, path));
      hashes.set(path, sha256(content));
      if (/env_file|label_file/.test(content.toString('utf8'))) mentionsFileKeys = true;
    }
  };
  await walk('');
  return { hashes, mentionsFileKeys };
}

export interface StackdView {
  /** Services the DesiredStack holds (what stackd runs), name → service hash. */
  readonly services: ReadonlyMap<string, string>;
  /** Why stackd refuses the stack (invalid, or not found at all), or null. */
  readonly error: string | null;
}

/** stackd's view: the source root holding the stack directory, through `stackd validate`'s code path. */
export async function stackdView(root: string): Promise<StackdView> {
  const report = await validateDirectory(root);
  const stack = report.stacks.find((s) => s.id === STACK);
  if (stack === undefined) return { services: new Map(), error: 'stackd found no stack in the directory' };
  if (stack.error !== null) return { services: new Map(), error: stack.error };
  return { services: new Map(stack.services.map((s) => [s.name, s.hash])), error: null };
}

export type Kind = 'agree' | 'addition' | 'missed' | 'needless' | 'refused';
export const KINDS: readonly Kind[] = ['agree', 'addition', 'missed', 'needless', 'refused'];

/** What happens to one service between two states: `same` and `absent` mean nothing is done. */
export type Action = 'same' | 'absent' | 'changed' | 'new' | 'gone';

export interface Verdict {
  readonly service: string;
  readonly kind: Kind;
  /** What compose does with the service (for a state: whether it runs it). */
  readonly compose: Action;
  /** What stackd does with it. */
  readonly stackd: Action;
  /** Why stackd's addition makes the service change, when compose's hash does not. */
  readonly trigger?: string;
}

/** `compose changed, stackd same` (with the addition's reason when there is one). */
export function describeVerdict(v: Verdict): string {
  return `compose ${v.compose}${v.trigger === undefined ? '' : ` (${v.trigger})`}, stackd ${v.stackd}`;
}

function action<T>(before: ReadonlyMap<string, T>, after: ReadonlyMap<string, T>, name: string): Action {
  const a = before.get(name);
  const b = after.get(name);
  if (a === undefined) return b === undefined ? 'absent' : 'new';
  if (b === undefined) return 'gone';
  return JSON.stringify(a) === JSON.stringify(b) ? 'same' : 'changed';
}

const acts = (a: Action): boolean => a !== 'same' && a !== 'absent';

/**
 * Why stackd's addition makes `name` change between the two compose views, or undefined: the
 * content of a file it references (in either state) changed, or the definition of a top-level
 * resource it uses did.
 */
function additionTrigger(before: ComposeView, after: ComposeView, name: string): string | undefined {
  const a = before.services.get(name);
  const b = after.services.get(name);
  if (a === undefined || b === undefined) return undefined;
  const refs = new Set([...a.references, ...b.references]);
  const changedFiles = new Set(
    [...new Set([...before.files.keys(), ...after.files.keys()])].filter(
      (path) => before.files.get(path) !== after.files.get(path),
    ),
  );
  for (const file of changedFiles) {
    for (const ref of refs) {
      if (ref === '.' || file === ref || file.startsWith(`${ref}/`)) return `references ${file}`;
    }
  }
  for (const key of new Set([...Object.keys(a.resources), ...Object.keys(b.resources)])) {
    if (a.resources[key] !== b.resources[key])
      return `uses ${key.replace(':', ' ')}, whose definition changed`;
  }
  return undefined;
}

/** Per service, compose's and stackd's verdicts on one mutation, classified. */
export function compareMutation(
  composeBefore: ComposeView,
  composeAfter: ComposeView,
  stackdBefore: StackdView,
  stackdAfter: StackdView,
): Verdict[] {
  const names = new Set([
    ...composeBefore.services.keys(),
    ...composeAfter.services.keys(),
    ...stackdBefore.services.keys(),
    ...stackdAfter.services.keys(),
  ]);
  const verdicts: Verdict[] = [];
  for (const name of [...names].sort()) {
    const c = action(
      new Map([...composeBefore.services].map(([k, v]) => [k, v.hash])),
      new Map([...composeAfter.services].map(([k, v]) => [k, v.hash])),
      name,
    );
    const s = action(stackdBefore.services, stackdAfter.services, name);
    const trigger = c === 'same' ? additionTrigger(composeBefore, composeAfter, name) : undefined;
    let kind: Kind;
    // compose acting otherwise than stackd (created where stackd recreates) counts as missed too.
    if (acts(c)) kind = c === s ? 'agree' : 'missed';
    else if (trigger !== undefined) kind = s === 'changed' ? 'addition' : 'missed';
    else kind = acts(s) ? 'needless' : 'agree';
    verdicts.push({
      service: name,
      kind,
      compose: c,
      stackd: s,
      ...(trigger === undefined ? {} : { trigger }),
    });
  }
  return verdicts;
}

/** The services of one state: those compose runs and stackd does not are missed, and the reverse needless. */
export function compareState(composeState: ComposeView, stackdState: StackdView): Verdict[] {
  const names = new Set([...composeState.services.keys(), ...stackdState.services.keys()]);
  const verdicts: Verdict[] = [];
  for (const name of [...names].sort()) {
    const inCompose = composeState.services.has(name);
    const inStackd = stackdState.services.has(name);
    const kind: Kind = inCompose === inStackd ? 'agree' : inCompose ? 'missed' : 'needless';
    verdicts.push({
      service: name,
      kind,
      compose: inCompose ? 'same' : 'absent',
      stackd: inStackd ? 'same' : 'absent',
    });
  }
  return verdicts;
}

/**
 * What the oracle (compose, plus stackd's addition) does on one mutation, one token per service it
 * acts on: `web` recreated, `+web` created, `-web` removed, `web*` changed by stackd's addition only.
 */
export function oracleActions(verdicts: readonly Verdict[]): string[] {
  const token = (v: Verdict): string | undefined => {
    if (v.compose === 'changed') return v.service;
    if (v.compose === 'new') return `+${v.service}`;
    if (v.compose === 'gone') return `-${v.service}`;
    return v.trigger === undefined ? undefined : `${v.service}*`;
  };
  return verdicts.map(token).filter((t): t is string => t !== undefined);
}
