/**
 * The status page's view of one stack (status, facts, actions, the history with the why of each
 * apply, its runs) and the token form. Strings from Git and Docker go in as text (see view.ts).
 */
import type { HistoryEntry, RunRecord, StackDetail } from '../../status/index.js';
import {
  type Actions,
  type Child,
  type Session,
  badge,
  button,
  h,
  lastResult,
  marks,
  revision,
  service,
  time,
} from './view.js';

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
