/**
 * The status page's views: the shared pieces and the stack list, as DOM nodes (one stack and the
 * token form are in stack_view.ts). Every string from Git or
 * Docker goes in as a text node (`h`'s string children, `textContent`), never as HTML, so a
 * service named `<script>` is shown, not run. Links are built here from ids and the configured
 * `source.webUrl` only.
 */
import type { ServiceStatus, StackStatus, StacksResponse } from '../../status/index.js';

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

export type Child = Node | string | null | undefined | false;

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

export function time(at: string | null | undefined, now: number): Child {
  if (at === null || at === undefined) return null;
  return h('time', { datetime: at, title: at }, age(at, now));
}

/** A short revision, linked to the commit when `webUrl` is set. */
export function revision(sha: string | null | undefined, webUrl: string): Child {
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

export function button(
  label: string,
  key: string,
  onClick: () => void,
  extra: Record<string, string> = {},
): HTMLElement {
  const el = h('button', { type: 'button', 'data-k': key, ...extra }, label);
  el.addEventListener('click', onClick);
  return el;
}

export function service(s: ServiceStatus): HTMLElement {
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

export function marks(stack: StackStatus): Child[] {
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

export function lastResult(stack: StackStatus, now: number): Child {
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
