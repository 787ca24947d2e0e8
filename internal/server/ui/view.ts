/**
 * The status page's views: the stack list and one stack, as DOM nodes. Every string from Git or
 * Docker goes in as a text node (`h`'s string children, `textContent`), never as HTML, so a
 * service named `<script>` is shown, not run. Links are built here from ids and the configured
 * `source.webUrl` only.
 */
import type {
  HistoryEntry,
  RunRecord,
  ServiceStatus,
  StackDetail,
  StackStatus,
  StacksResponse,
} from '../../status/index.js';

export interface Session {
  readonly tokenRequired: boolean;
  readonly authenticated: boolean;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  readonly instance: string;
  readonly version: string;
  readonly webUrl: string;
}

/** What the buttons do (app.ts sends the requests). */
export interface Actions {
  sync(id: string): void;
  refresh(): void;
  suspend(id: string, reason: string): void;
  resume(id: string): void;
}

type Child = Node | string | null | undefined | false;

/** An element with attributes and children; strings become text nodes. */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** `/stacks/apps/web` for `apps/web` (each segment encoded). */
export function stackPath(id: string): string {
  return `/stacks/${id.split('/').map(encodeURIComponent).join('/')}`;
}

/** The stack id of a `/stacks/…` path; undefined for any other path. */
export function stackIdOf(pathname: string): string | undefined {
  if (!pathname.startsWith('/stacks/')) return undefined;
  const rest = pathname.slice('/stacks/'.length);
  if (rest === '') return undefined;
  try {
    return rest.split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

const SYMBOL: Record<string, string> = {
  synced: '✓',
  out_of_sync: '≠',
  syncing: '↻',
  failed: '✗',
  missing: '?',
  unknown: '·',
};

/** The status as a badge: a symbol and the word (colour is never the only sign). */
export function badge(status: string): HTMLElement {
  return h(
    'span',
    { class: `badge status-${status}`, 'data-status': status },
    `${SYMBOL[status] ?? '·'} ${status}`,
  );
}

/** "12s ago", "5m ago", "3h ago", "2d ago". */
export function age(at: string | null | undefined, now: number): string {
  if (at === null || at === undefined) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

function time(at: string | null | undefined, now: number): Child {
  if (at === null || at === undefined) return null;
  return h('time', { datetime: at, title: at }, age(at, now));
}

/** A short revision, linked to the commit when `webUrl` is set. */
function revision(sha: string | null | undefined, webUrl: string): Child {
  if (sha === null || sha === undefined || sha === '') return h('span', { class: 'muted' }, '—');
  const short = sha.slice(0, 8);
  if (webUrl === '' || !/^[0-9a-f]{7,64}$/.test(sha)) return h('code', { title: sha }, short);
  return h(
    'a',
    { href: `${webUrl.replace(/\/+$/, '')}/commit/${sha}`, title: sha, rel: 'noreferrer' },
    h('code', {}, short),
  );
}

function revisions(stack: StackStatus, webUrl: string): HTMLElement {
  const desired = stack.desired?.revision ?? null;
  const synced = stack.synced?.revision ?? null;
  if (desired === synced) return h('span', {}, revision(desired, webUrl));
  return h('span', {}, revision(synced, webUrl), ' → ', revision(desired, webUrl));
}

function button(
  label: string,
  key: string,
  onClick: () => void,
  extra: Record<string, string> = {},
): HTMLElement {
  const el = h('button', { type: 'button', 'data-k': key, ...extra }, label);
  el.addEventListener('click', onClick);
  return el;
}

function service(s: ServiceStatus): HTMLElement {
  const bits = [s.state];
  if (s.health !== null) bits.push(s.health);
  if (typeof s.restarts === 'number' && s.restarts > 0) bits.push(`${s.restarts} restarts`);
  if (!s.inSync) bits.push('out of sync');
  return h(
    'li',
    { class: `svc svc-${s.state}` },
    h('span', { class: 'svc-name' }, s.name),
    ' ',
    h('span', { class: 'muted' }, bits.join(', ')),
    s.availableDigest !== null && s.availableDigest !== undefined
      ? h('span', { class: 'mark mark-update', title: s.availableDigest }, 'update available')
      : null,
  );
}

function marks(stack: StackStatus): Child[] {
  return [
    stack.suspended === null
      ? null
      : h('span', { class: 'mark mark-suspended', title: stack.suspended.reason }, 'suspended'),
    stack.rollback === null
      ? null
      : h(
          'span',
          { class: 'mark mark-rollback', title: stack.rollback.reason },
          `rolled back to ${stack.rollback.to.slice(0, 8)}`,
        ),
  ];
}

function lastResult(stack: StackStatus, now: number): Child {
  const last = stack.lastResult;
  if (last === null) return h('span', { class: 'muted' }, '—');
  return h('span', {}, last.outcome, ' ', h('span', { class: 'muted' }, time(last.at, now)));
}

/** The header: instance, source, pause, live state, refresh. */
export function header(
  data: StacksResponse | undefined,
  session: Session,
  live: string,
  actions: Actions,
  now: number,
): HTMLElement {
  const source = data?.source;
  return h(
    'header',
    { class: 'top' },
    h(
      'h1',
      {},
      h('a', { href: '/' }, 'stackd'),
      session.instance === '' ? null : h('span', { class: 'muted' }, ` · ${session.instance}`),
    ),
    h(
      'p',
      { class: 'source' },
      data === undefined
        ? null
        : h(
            'span',
            {},
            'revision ',
            revision(data.revision, session.webUrl),
            ' ',
            h('span', { class: 'muted' }, time(data.fetchedAt, now)),
          ),
      data !== undefined && !data.reconcileEnabled
        ? h('span', { class: 'mark mark-paused' }, 'reconciliation paused')
        : null,
      h('span', { class: `live live-${live}`, role: 'status' }, live),
      session.canWrite
        ? button('Refresh', 'refresh', () => {
            actions.refresh();
          })
        : null,
    ),
    source?.lastError === null || source?.lastError === undefined
      ? null
      : h(
          'p',
          { class: 'alert', role: 'alert' },
          `fetch failing since ${source.failingSince ?? '?'}: ${source.lastError}`,
        ),
  );
}

/** Every stack, one row each. */
export function stackList(
  data: StacksResponse,
  session: Session,
  actions: Actions,
  now: number,
): HTMLElement {
  const rows = data.stacks.map((stack) =>
    h(
      'tr',
      { 'data-stack': stack.id, 'data-status': stack.status },
      h('th', { scope: 'row', 'data-label': 'Stack' }, h('a', { href: stackPath(stack.id) }, stack.id)),
      h('td', { 'data-label': 'Status' }, badge(stack.status), ...marks(stack)),
      h('td', { 'data-label': 'Revision' }, revisions(stack, session.webUrl)),
      h('td', { 'data-label': 'Last result' }, lastResult(stack, now)),
      h('td', { 'data-label': 'Services' }, h('ul', { class: 'svcs' }, ...stack.services.map(service))),
      session.canWrite
        ? h(
            'td',
            { 'data-label': 'Actions' },
            button(
              'Sync now',
              `sync:${stack.id}`,
              () => {
                actions.sync(stack.id);
              },
              { 'aria-label': `Sync ${stack.id} now` },
            ),
          )
        : null,
    ),
  );
  return h(
    'table',
    { class: 'stacks' },
    h('caption', {}, `${data.stacks.length} stacks`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          'Stack',
          'Status',
          'Revision',
          'Last result',
          'Services',
          ...(session.canWrite ? ['Actions'] : []),
        ].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, ...rows),
  );
}

function changes(entry: HistoryEntry): Child {
  if (entry.changes === undefined || entry.changes.length === 0) return null;
  return h(
    'ul',
    { class: 'why' },
    ...entry.changes.map((c) =>
      h('li', {}, h('span', { class: 'svc-name' }, c.service), ` ${c.change}: ${c.why}`),
    ),
  );
}

/** One stack: status, services, actions, the history with the why of each apply, its runs. */
export function stackPage(
  stack: StackDetail,
  runs: readonly RunRecord[],
  session: Session,
  actions: Actions,
  now: number,
): HTMLElement {
  const suspendForm = (): Child => {
    if (!session.canWrite) return null;
    if (stack.suspended !== null)
      return button('Resume', 'resume', () => {
        actions.resume(stack.id);
      });
    const input = h('input', {
      type: 'text',
      id: 'suspend-reason',
      'data-k': 'reason',
      placeholder: 'reason',
      'aria-label': 'Suspension reason',
    }) as HTMLInputElement;
    return h(
      'span',
      {},
      input,
      button('Suspend', 'suspend', () => {
        actions.suspend(stack.id, input.value);
      }),
    );
  };
  const mine = runs.filter((run) => run.stacks.some((s) => s.id === stack.id)).slice(0, 20);
  return h(
    'article',
    { class: 'stack', 'data-stack': stack.id, 'data-status': stack.status },
    h('p', {}, h('a', { href: '/' }, '← all stacks')),
    h('h2', {}, stack.id, ' ', badge(stack.status), ...marks(stack)),
    stack.message === '' ? null : h('pre', { class: 'message' }, stack.message),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Project'),
      h('dd', {}, stack.project),
      h('dt', {}, 'Desired'),
      h(
        'dd',
        {},
        revision(stack.desired?.revision, session.webUrl),
        ' ',
        h('code', { class: 'muted' }, stack.desired?.composeHash.slice(0, 19) ?? ''),
      ),
      h('dt', {}, 'Synced'),
      h(
        'dd',
        {},
        revision(stack.synced?.revision, session.webUrl),
        ' ',
        h('span', { class: 'muted' }, time(stack.synced?.at, now)),
      ),
      h('dt', {}, 'Last result'),
      h(
        'dd',
        {},
        lastResult(stack, now),
        stack.lastResult?.message ? h('div', { class: 'muted' }, stack.lastResult.message) : null,
      ),
      stack.suspended === null ? null : h('dt', {}, 'Suspended'),
      stack.suspended === null ? null : h('dd', {}, `${stack.suspended.reason} (${stack.suspended.by})`),
      stack.rollback === null ? null : h('dt', {}, 'Rollback'),
      stack.rollback === null
        ? null
        : h(
            'dd',
            {},
            `${stack.rollback.from.slice(0, 8)} → ${stack.rollback.to.slice(0, 8)}: ${stack.rollback.reason}`,
          ),
    ),
    session.canWrite
      ? h(
          'p',
          { class: 'actions' },
          button('Sync now', `sync:${stack.id}`, () => {
            actions.sync(stack.id);
          }),
          ' ',
          suspendForm(),
        )
      : null,
    h('h3', {}, 'Services'),
    h('ul', { class: 'svcs' }, ...stack.services.map(service)),
    h('h3', {}, 'History'),
    stack.history.length === 0
      ? h('p', { class: 'muted' }, 'nothing applied yet')
      : h(
          'table',
          { class: 'history' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['When', 'Action', 'Outcome', 'Revision', 'Why'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            ...stack.history.map((entry) =>
              h(
                'tr',
                { 'data-outcome': entry.outcome },
                h('td', { 'data-label': 'When' }, time(entry.at, now)),
                h('td', { 'data-label': 'Action' }, entry.action),
                h(
                  'td',
                  { 'data-label': 'Outcome' },
                  entry.outcome,
                  entry.message === '' ? null : h('div', { class: 'muted' }, entry.message),
                ),
                h('td', { 'data-label': 'Revision' }, revision(entry.revision, session.webUrl)),
                h('td', { 'data-label': 'Why' }, changes(entry)),
              ),
            ),
          ),
        ),
    h('h3', {}, 'Recent runs'),
    mine.length === 0
      ? h('p', { class: 'muted' }, 'no runs recorded')
      : h(
          'table',
          { class: 'runs' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Started', 'Trigger', 'Revision', 'Outcome'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            ...mine.map((run) => {
              const me = run.stacks.find((s) => s.id === stack.id);
              return h(
                'tr',
                { 'data-run': String(run.id), 'data-trigger': run.trigger },
                h('td', { 'data-label': 'Started' }, time(run.startedAt, now)),
                h('td', { 'data-label': 'Trigger' }, run.trigger),
                h('td', { 'data-label': 'Revision' }, revision(run.revision, session.webUrl)),
                h(
                  'td',
                  { 'data-label': 'Outcome' },
                  me?.outcome ?? '',
                  me?.message ? h('div', { class: 'muted' }, me.message) : null,
                ),
              );
            }),
          ),
        ),
  );
}

/** The token form (a token is configured and none, or a wrong one, was given). */
export function tokenForm(wrong: boolean, submit: (token: string) => void): HTMLElement {
  const input = h('input', {
    type: 'password',
    id: 'token',
    autocomplete: 'current-password',
    'aria-label': 'API token',
    required: '',
  }) as HTMLInputElement;
  const form = h(
    'form',
    { class: 'token' },
    h('h2', {}, 'API token'),
    h(
      'p',
      {},
      'This stackd has server.token set: enter it to see the stacks. It is kept in this tab only (session storage) and sent as a bearer header.',
    ),
    wrong ? h('p', { class: 'alert', role: 'alert' }, 'That token was refused.') : null,
    h('label', { for: 'token' }, 'Token '),
    input,
    ' ',
    h('button', { type: 'submit' }, 'Open'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(input.value.trim());
  });
  return form;
}
