/** The convict schema: every key, environment variable, flag and default of DESIGN.md §5. */
import { hostname } from 'node:os';
import type { NotifyEvent } from '../feedback/types.js';
import type { NotifyTargetConfig } from './notify.js';

export const schema = {
  source: {
    url: {
      doc: 'Git remote (http(s)://), file:// URL or local path of the stacks repository',
      format: 'source-url-or-empty',
      default: '',
      env: 'STACKD_SOURCE_URL',
      arg: 'source-url',
    },
    branch: {
      doc: 'Branch to follow',
      format: String,
      default: 'main',
      env: 'STACKD_SOURCE_BRANCH',
      arg: 'branch',
    },
    path: {
      doc: 'Directory inside the repository that holds the stacks ("" = repository root), relative to its root, without `..`',
      format: 'source-path',
      default: '',
      env: 'STACKD_SOURCE_PATH',
      arg: 'source-path',
    },
    pollInterval: {
      doc: 'How often to fetch the branch (0 = never; webhooks and manual refresh still work)',
      format: 'stackd-duration',
      default: 60_000,
      env: 'STACKD_SOURCE_POLL_INTERVAL',
      arg: 'poll-interval',
    },
    fetchTimeout: {
      doc: 'Give up a fetch after this long (the last good snapshot is kept)',
      format: 'positive-duration',
      default: 60_000,
      env: 'STACKD_SOURCE_FETCH_TIMEOUT',
    },
    webUrl: {
      doc: "The repository's web address (https://github.com/org/stacks): the status page links each revision to <webUrl>/commit/<sha>; empty: no links",
      format: 'web-url-or-empty',
      default: '',
      env: 'STACKD_SOURCE_WEB_URL',
    },
    maxFileSize: {
      doc: 'Largest file a stack directory may hold (a bigger one fails that stack)',
      format: 'byte-size',
      default: 16 * 1024 * 1024,
      env: 'STACKD_SOURCE_MAX_FILE_SIZE',
    },
    maxStackSize: {
      doc: "Largest total size of a stack directory's files (more fails that stack)",
      format: 'byte-size',
      default: 128 * 1024 * 1024,
      env: 'STACKD_SOURCE_MAX_STACK_SIZE',
    },
    maxStackFiles: {
      doc: 'Most files a stack directory may hold (more fails that stack)',
      format: 'positive-integer',
      default: 10_000,
      env: 'STACKD_SOURCE_MAX_STACK_FILES',
    },
    auth: {
      username: {
        doc: 'User name for an http(s) remote',
        format: String,
        default: '',
        env: 'STACKD_SOURCE_USERNAME',
      },
      token: {
        doc: 'Token or password for an http(s) remote',
        format: String,
        default: '',
        env: 'STACKD_SOURCE_TOKEN',
        sensitive: true,
      },
      sshKeyFile: {
        doc: 'Private key (no passphrase) an SSH source (ssh://…, user@host:path) signs in with; required for one. Only its path is given to ssh',
        format: 'ssh-file',
        default: '',
        env: 'STACKD_SOURCE_SSH_KEY_FILE',
      },
      knownHostsFile: {
        doc: "known_hosts file holding the SSH server's host key; required for an SSH source (an unknown or changed host key fails the fetch; no default: ~/.ssh is not read)",
        format: 'ssh-file',
        default: '',
        env: 'STACKD_SOURCE_KNOWN_HOSTS_FILE',
      },
    },
  },
  scope: {
    include: {
      doc: 'Globs over stack ids to manage',
      format: 'glob-list',
      default: ['**'],
      env: 'STACKD_SCOPE_INCLUDE',
    },
    exclude: {
      doc: 'Globs over stack ids to leave alone (never deployed, removed or reported)',
      format: 'glob-list',
      default: [] as string[],
      env: 'STACKD_SCOPE_EXCLUDE',
    },
  },
  reconcile: {
    enabled: {
      doc: 'Apply changes (false: fetch and report only)',
      format: 'stackd-boolean',
      default: true,
      env: 'STACKD_RECONCILE_ENABLED',
    },
    prune: {
      doc: 'Remove stacks deleted from Git (compose down, volumes kept)',
      format: 'stackd-boolean',
      default: false,
      env: 'STACKD_RECONCILE_PRUNE',
      arg: 'prune',
    },
    allowEmpty: {
      doc: 'Allow a snapshot that would remove every stack',
      format: 'stackd-boolean',
      default: false,
      env: 'STACKD_RECONCILE_ALLOW_EMPTY',
    },
    selfHeal: {
      doc: 'Repair drift that has no desired change (a container stopped or removed by hand)',
      format: 'stackd-boolean',
      default: true,
      env: 'STACKD_RECONCILE_SELF_HEAL',
    },
    timeout: {
      doc: 'Longest a stack apply may take, waiting for containers included',
      format: 'positive-duration',
      default: 180_000,
      env: 'STACKD_RECONCILE_TIMEOUT',
    },
    minReady: {
      doc: 'How long every new container must run without restarting before an apply counts as done (healthy counts at once; 0 = two looks 300 ms apart)',
      format: 'stackd-duration',
      default: 5_000,
      env: 'STACKD_RECONCILE_MIN_READY',
    },
    crashLoopLimit: {
      doc: 'Exits of a synced stack within 10 minutes after which self-heal stops for that desired stack hash and the stack is failed',
      format: 'positive-integer',
      default: 3,
      env: 'STACKD_RECONCILE_CRASH_LOOP_LIMIT',
    },
    rollback: {
      doc: 'After a failed update, re-apply the stack as it was at its last synced revision',
      format: 'stackd-boolean',
      default: false,
      env: 'STACKD_RECONCILE_ROLLBACK',
    },
    resyncInterval: {
      doc: 'How often every stack is re-checked from the caches without fetching (0 = never)',
      format: 'stackd-duration',
      default: 300_000,
      env: 'STACKD_RECONCILE_RESYNC_INTERVAL',
    },
  },
  compose: {
    command: {
      doc: 'auto (docker compose if present, else docker-compose) or a command line (not empty)',
      format: 'compose-command',
      default: 'auto',
      env: 'STACKD_COMPOSE_COMMAND',
    },
  },
  registry: {
    authFile: {
      doc: 'File of registry logins compose pulls with, in Docker\'s config.json format ({"auths": {"REGISTRY": {"auth": "<base64 of user:password>"}}}, or "username" and "password" for "auth"; JSON or YAML; empty file = none), merged into dataDir/docker/config.json at start',
      format: String,
      default: '',
      env: 'STACKD_REGISTRY_AUTH_FILE',
    },
  },
  instance: {
    doc: 'Value of the io.stackd.managed-by label; stackd only removes containers carrying it',
    format: 'instance-name',
    default: hostname(),
    env: 'STACKD_INSTANCE',
    arg: 'instance',
  },
  dataDir: {
    doc: 'State file, Git objects and working trees',
    format: 'non-empty-string',
    default: '/var/lib/stackd',
    env: 'STACKD_DATA_DIR',
    arg: 'data-dir',
  },
  server: {
    listen: {
      doc: 'HTTP API address',
      format: 'listen-address',
      default: '127.0.0.1:8700',
      env: 'STACKD_LISTEN',
      arg: 'listen',
    },
    token: {
      doc: 'Bearer token for the API, 16 characters or more (without it, mutating endpoints accept loopback clients only)',
      format: 'secret',
      default: '',
      env: 'STACKD_API_TOKEN',
      sensitive: true,
    },
    allowedHosts: {
      doc: "Host names the API answers besides its listen address, localhost, loopback addresses and this host's name (a Host header naming anything else is refused)",
      format: 'host-list',
      default: [] as string[],
      env: 'STACKD_SERVER_ALLOWED_HOSTS',
    },
    allowedOrigins: {
      doc: 'Web origins (scheme://host[:port]) whose pages may call the API; requests from any other origin are refused',
      format: 'origin-list',
      default: [] as string[],
      env: 'STACKD_SERVER_ALLOWED_ORIGINS',
    },
  },
  webhook: {
    secret: {
      doc: 'HMAC secret of GitHub, Gitea, Forgejo and Gogs webhooks, 16 characters or more (without it and gitlabToken, the webhook endpoint answers 404)',
      format: 'secret',
      default: '',
      env: 'STACKD_WEBHOOK_SECRET',
      sensitive: true,
    },
    gitlabToken: {
      doc: 'Secret token of GitLab webhooks (sent in clear in X-Gitlab-Token, so never the HMAC secret), 16 characters or more',
      format: 'secret',
      default: '',
      env: 'STACKD_WEBHOOK_GITLAB_TOKEN',
      sensitive: true,
    },
    registryToken: {
      doc: 'Token of registry push webhooks (POST /api/v1/webhook/registry: docker-registry notifications send it as Authorization: Bearer, Docker Hub as ?token=), 16 characters or more; GitHub package events are signed with webhook.secret instead',
      format: 'secret',
      default: '',
      env: 'STACKD_WEBHOOK_REGISTRY_TOKEN',
      sensitive: true,
    },
  },
  secrets: {
    ageKeyFile: {
      doc: 'age identity file (age-keygen) that opens the SOPS (*.sops.env, *.sops.yaml, *.sops.json, *.sops) and *.age files of the stacks; empty: a stack holding one fails',
      format: 'age-key-file',
      default: '',
      env: 'STACKD_SECRETS_AGE_KEY_FILE',
    },
  },
  images: {
    update: {
      doc: "Image updates of services that do not set x-stackd.update: off (only Git changes deploy), digest (a new registry digest of the service's tag is pulled and deployed, health-gated) or notify (reported, nothing changes)",
      format: ['off', 'digest', 'notify'] as const,
      default: 'off',
      env: 'STACKD_IMAGES_UPDATE',
    },
    pollInterval: {
      doc: 'How often to ask the registries for the digests of watched tags, lengthened by up to 10% at random (0 = never; registry webhooks still work)',
      format: 'stackd-duration',
      default: 6 * 60 * 60 * 1000,
      env: 'STACKD_IMAGES_POLL_INTERVAL',
    },
  },
  notify: {
    targets: {
      doc: 'Where notifications go: a list of { name, type (webhook, ntfy, gotify, slack, discord), url or urlFile, secretFile or credential, events } (JSON in the environment); empty: none',
      format: 'notify-targets',
      default: [] as NotifyTargetConfig[],
      env: 'STACKD_NOTIFY_TARGETS',
      sensitive: true,
    },
    events: {
      doc: 'Events notified to targets that do not list their own: failed, recovered, rolled_back, removed, synced',
      format: 'notify-events',
      default: ['failed', 'recovered', 'rolled_back', 'removed'] as NotifyEvent[],
      env: 'STACKD_NOTIFY_EVENTS',
    },
    repeatInterval: {
      doc: 'A stack that keeps failing for the same reason is notified again at most this often',
      format: 'positive-duration',
      default: 24 * 60 * 60 * 1000,
      env: 'STACKD_NOTIFY_REPEAT_INTERVAL',
    },
    batchWindow: {
      doc: 'A notification waits this long for more of the same event (one message for a burst across stacks); at most 6 windows in all',
      format: 'stackd-duration',
      default: 5_000,
      env: 'STACKD_NOTIFY_BATCH_WINDOW',
    },
  },
  scm: {
    commitStatus: {
      doc: 'Post a commit status per stack on the desired commit: off, github, gitea (Forgejo, Gogs) or gitlab',
      format: ['off', 'github', 'gitea', 'gitlab'] as const,
      default: 'off',
      env: 'STACKD_SCM_COMMIT_STATUS',
    },
    url: {
      doc: "The forge's API base URL; empty: https://api.github.com for github, else the source URL's https://host",
      format: 'http-url-or-empty',
      default: '',
      env: 'STACKD_SCM_URL',
    },
    repository: {
      doc: 'owner/repo (GitLab: the project path) to post statuses on; empty: taken from source.url',
      format: 'scm-repository',
      default: '',
      env: 'STACKD_SCM_REPOSITORY',
    },
    token: {
      doc: 'API token that may write commit statuses (GitHub: repo:status or a fine-grained "Commit statuses: write"; Gitea: write:repository; GitLab: api)',
      format: String,
      default: '',
      env: 'STACKD_SCM_TOKEN',
      sensitive: true,
    },
    targetUrl: {
      doc: "Linked from each commit status (say, this stackd's status page); empty: no link",
      format: 'http-url-or-empty',
      default: '',
      env: 'STACKD_SCM_TARGET_URL',
    },
  },
  log: {
    level: {
      doc: 'error, warn, info or debug',
      format: ['error', 'warn', 'info', 'debug'] as const,
      default: 'info',
      env: 'STACKD_LOG_LEVEL',
      arg: 'log-level',
    },
    format: {
      doc: 'auto (text when stderr is a terminal, else json), json (one event per line) or text',
      format: ['auto', 'json', 'text'] as const,
      default: 'auto',
      env: 'STACKD_LOG_FORMAT',
      arg: 'log-format',
    },
  },
};

/** A schema leaf: a key with its default (a section is a mapping of leaves and sections). */
interface Leaf {
  readonly default: unknown;
  readonly format?: unknown;
}

/** The value type of a leaf: one of its `format` choices, or its default's type widened. */
type LeafValue<L> = L extends { readonly format: readonly (infer Choice extends string)[] }
  ? Choice
  : L extends { readonly default: infer D }
    ? D extends string
      ? string
      : D extends number
        ? number
        : D extends boolean
          ? boolean
          : D extends readonly (infer E)[]
            ? readonly E[]
            : D
    : never;

type Values<S> = { readonly [K in keyof S]: S[K] extends Leaf ? LeafValue<S[K]> : Values<S[K]> };

/**
 * The effective configuration, derived from the schema: durations are milliseconds, sizes bytes
 * (see each key's `doc` above).
 */
export type Config = Values<typeof schema>;

/** Environment variables whose `_FILE` variant names a file holding the value. */
export const FILE_ENV_VARS = [
  'STACKD_SOURCE_USERNAME',
  'STACKD_SOURCE_TOKEN',
  'STACKD_API_TOKEN',
  'STACKD_WEBHOOK_SECRET',
  'STACKD_WEBHOOK_GITLAB_TOKEN',
  'STACKD_WEBHOOK_REGISTRY_TOKEN',
  'STACKD_SCM_TOKEN',
] as const;

/** Keys whose values never leave the process (printed as `[redacted]`). */
export const SECRET_KEYS = [
  'source.auth.token',
  'server.token',
  'webhook.secret',
  'webhook.gitlabToken',
  'webhook.registryToken',
  'scm.token',
] as const;
