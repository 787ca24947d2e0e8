import { createHash } from 'node:crypto';
import {
  ComposeFileError,
  DEFAULT_LIMITS,
  deriveProjectName,
  hashStack,
  sha256Hex,
  type StackFile,
} from '../../pkg/composehash/index.js';
import { childEnvironment } from '../compose/environment.js';
import {
  type OpenedSecret,
  type SecretFormat,
  type SecretOpener,
  SopsError,
  encryptedFileOf,
  noKeyOpener,
} from '../secrets/index.js';
import { listStackFiles, type StackCandidate } from './discover.js';
import { DEFAULT_STACK_LIMITS, formatSize, type StackLimits } from './limits.js';
import {
  MODE_FILE,
  MODE_SYMLINK,
  UnsafeTreeError,
  joinPath,
  type TreeEntry,
  type TreeReader,
} from './tree.js';
import type { DesiredService, DesiredStack } from './types.js';
import { StackSettingsError, readStackSettings } from './x_stackd.js';

/**
 * Read one stack's files and turn them into a DesiredStack. A stack that cannot be used (its
 * name, an unsafe tree, a limit, compose files that do not parse) is returned with its error
 * (the rest of the snapshot goes on); a failure to read the tree itself is thrown.
 */
export async function buildStack(
  reader: TreeReader,
  candidate: StackCandidate,
  limits: StackLimits = DEFAULT_STACK_LIMITS,
  environment: Readonly<Record<string, string | undefined>> = childEnvironment(),
  secrets: SecretOpener = noKeyOpener,
): Promise<DesiredStack> {
  const files = new Map<string, string>();
  const fileModes = new Map<string, string>();
  const hashed = new Map<string, StackFile>();
  // What the loader may read (compose and `.env` files, link targets): files up to the compose
  // parser's limit are kept while the stack is hashed; of a larger one only its size, so that the
  // parser refuses it by size without the stack's big files all held in memory at once.
  const contents = new Map<string, Uint8Array>();
  const oversized = new Map<string, number>();
  const refuse = (error: string): DesiredStack =>
    invalid(
      {
        id: candidate.id,
        dir: candidate.dir,
        composeFiles: candidate.composeFiles,
        files: new Map(),
        project: deriveProjectName(candidate.id),
      },
      error,
    );
  if (candidate.problem !== undefined) return refuse(candidate.problem);
  let entries: Map<string, TreeEntry>;
  try {
    entries = await listStackFiles(reader, candidate.dir);
  } catch (error) {
    if (error instanceof UnsafeTreeError) return refuse(error.message);
    throw error;
  }
  if (entries.size > limits.maxStackFiles) {
    return refuse(
      `the stack directory has ${entries.size} files, more than the limit of ${limits.maxStackFiles} (source.maxStackFiles)`,
    );
  }
  let total = 0;
  const toOpen: { path: string; content: Uint8Array; plain: string; format: SecretFormat }[] = [];
  for (const [path, entry] of entries) {
    const content = await reader.read(joinPath(candidate.dir, path), entry);
    if (content.byteLength > limits.maxFileSize) {
      return refuse(
        `\`${path}\` is ${content.byteLength} bytes, more than the limit of ${formatSize(limits.maxFileSize)} per file (source.maxFileSize)`,
      );
    }
    total += content.byteLength;
    if (total > limits.maxStackSize) {
      return refuse(
        `the stack directory's files add up to more than the limit of ${formatSize(limits.maxStackSize)} (source.maxStackSize)`,
      );
    }
    files.set(path, entry.oid ?? gitBlobId(content));
    if (entry.mode !== MODE_FILE) fileModes.set(path, entry.mode);
    if (path === '.env' && entry.mode === MODE_SYMLINK) {
      return refuse(
        '`.env` is a symbolic link: compose would read whatever it points to; commit the file itself',
      );
    }
    hashed.set(path, { mode: entry.mode, sha256: sha256Hex(content) });
    const encrypted = entry.mode === MODE_SYMLINK ? undefined : encryptedFileOf(path);
    if (encrypted !== undefined) toOpen.push({ path, content, ...encrypted });
    if (content.byteLength <= DEFAULT_LIMITS.maxFileBytes) contents.set(path, content);
    else oversized.set(path, content.byteLength);
  }
  // Encrypted files: each stands as its plain name (`app.sops.env` → `app.env`) for the loader
  // and the hashes, digested with a key (never a bare digest of a plaintext).
  const secretFiles = new Map<string, { readonly source: string; readonly format: SecretFormat }>();
  let secretEnv = false;
  for (const file of toOpen) {
    const clash = files.has(file.plain) ? file.plain : secretFiles.get(file.plain)?.source;
    if (clash !== undefined) {
      return refuse(
        `\`${file.path}\` decrypts to \`${file.plain}\`, which \`${clash}\` already provides: keep one of them`,
      );
    }
    let opened: OpenedSecret;
    try {
      opened = await secrets.open(file.format, file.content);
    } catch (error) {
      if (!(error instanceof SopsError)) throw error;
      const verb = secrets.decrypts ? 'cannot be decrypted' : 'is not a valid encrypted file';
      return refuse(`\`${file.path}\` ${verb}: ${error.message}`);
    }
    secretFiles.set(file.plain, { source: file.path, format: file.format });
    hashed.set(file.plain, { mode: MODE_FILE, sha256: opened.digest });
    if (opened.plaintext !== undefined && opened.plaintext.byteLength <= DEFAULT_LIMITS.maxFileBytes) {
      contents.set(file.plain, opened.plaintext);
    }
    if (file.plain === '.env' || file.plain.endsWith('/.env')) secretEnv = true;
  }
  const base = {
    id: candidate.id,
    dir: candidate.dir,
    composeFiles: candidate.composeFiles,
    files,
    ...(fileModes.size > 0 ? { fileModes } : {}),
    ...(secretFiles.size > 0 ? { secrets: secretFiles } : {}),
  };
  try {
    const result = hashStack({
      id: candidate.id,
      composeFiles: candidate.composeFiles,
      files: hashed,
      read: (path) => {
        const size = oversized.get(path);
        return size === undefined ? contents.get(path) : new Uint8Array(size);
      },
      environment,
    });
    // Values a decrypted `.env` interpolated are in the definitions: re-key those hashes so that
    // no label is a bare digest over a secret.
    const keyed = (hash: string): string => (secretEnv ? `sha256:${secrets.digest(hash)}` : hash);
    const settings = readStackSettings(result.document);
    const services = new Map<string, DesiredService>();
    for (const [name, service] of result.services)
      services.set(name, {
        ...service,
        hash: keyed(service.hash),
        parts: { ...service.parts, definition: keyed(service.parts.definition) },
        update: settings.services.get(name) ?? settings.update,
      });
    return {
      ...base,
      composeFiles: result.composeFiles,
      project: result.project,
      composeHash: keyed(result.composeHash),
      services,
      intent: settings.intent,
      error: null,
    };
  } catch (error) {
    if (error instanceof StackSettingsError) {
      const main = candidate.composeFiles[0] ?? 'compose file';
      return invalid({ ...base, project: deriveProjectName(candidate.id) }, `${main}: ${error.message}`);
    }
    if (!(error instanceof ComposeFileError)) throw error;
    return invalid({ ...base, project: deriveProjectName(candidate.id) }, error.message);
  }
}

/** The stack marked invalid: no compose hash, no services, the reason. */
export function invalid(
  stack: Omit<DesiredStack, 'composeHash' | 'services' | 'error'>,
  error: string,
): DesiredStack {
  return { ...stack, composeHash: null, services: new Map(), error };
}

/** Git's blob id of some content (`sha1("blob <size>\0" + content)`), for trees without ids. */
export function gitBlobId(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}
