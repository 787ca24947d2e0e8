/**
 * The status page in the browser: asks `/api/v1/session` what it may do, loads the stacks (or one
 * stack), follows `GET /api/v1/events` for changes and falls back to polling while the stream is
 * down. The API token, when one is needed, is kept in session storage and sent as a bearer header,
 * never in a URL. Actions go through the same endpoints as the CLI, as JSON.
 */
import type { RunRecord, StackDetail, StackStatus, StacksResponse } from '../../status/index.js';
import { EventParser } from './sse.js';
import { stackPage, tokenForm } from './stack_view.js';
import { type Actions, type Session, h, header, stackIdOf, stackList } from './view.js';

const TOKEN_KEY = 'stackd.token';
const POLL_MS = 5000;
const RECONNECT_MS = 10_000;

const stackId = stackIdOf(location.pathname);
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let session: Session | undefined;
let data: StacksResponse | undefined;
let detail: StackDetail | undefined;
let runs: readonly RunRecord[] = [];
let live = 'connecting';
let notice = '';
let pollTimer: number | undefined;
let detailTimer: number | undefined;
let stream: AbortController | undefined;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (token !== '') headers['authorization'] = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    cache: 'no-store',
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (body as { error?: unknown } | null)?.error;
    throw new ApiError(response.status, typeof error === 'string' ? error : `HTTP ${response.status}`);
  }
  return body;
}

const actions: Actions = {
  sync: (id) => {
    act(`sync of ${id} requested`, () =>
      api(`/api/v1/stacks/${encodeURIComponent(id)}/sync`, { method: 'POST', body: {} }),
    );
  },
  refresh: () => {
    act('refresh requested', () => api('/api/v1/refresh', { method: 'POST', body: {} }));
  },
  suspend: (id, reason) => {
    const body = reason.trim() === '' ? { suspended: true } : { suspended: true, reason: reason.trim() };
    act(`${id} suspended`, () =>
      api(`/api/v1/stacks/${encodeURIComponent(id)}/suspend`, { method: 'PUT', body }),
    );
  },
  resume: (id) => {
    act(`${id} resumed`, () =>
      api(`/api/v1/stacks/${encodeURIComponent(id)}/suspend`, { method: 'PUT', body: { suspended: false } }),
    );
  },
};

function act(done: string, request: () => Promise<unknown>): void {
  request().then(
    () => {
      notice = done;
      render();
      if (stackId !== undefined) loadDetailSoon();
    },
    (error: unknown) => {
      notice = `refused: ${(error as Error).message}`;
      render();
    },
  );
}

/** Re-renders the page, keeping focus and typed text on the element with the same `data-k`. */
function render(): void {
  const main = document.getElementById('main');
  if (main === null || session === undefined) return;
  const focused = (document.activeElement as HTMLElement | null)?.dataset['k'];
  const typed = new Map<string, string>();
  for (const input of main.querySelectorAll<HTMLInputElement>('input[data-k]'))
    typed.set(input.dataset['k'] ?? '', input.value);
  const now = Date.now();
  const view =
    stackId === undefined
      ? data === undefined
        ? h('p', {}, 'Loading…')
        : stackList(data, session, actions, now)
      : detail === undefined
        ? h('p', {}, 'Loading…')
        : stackPage(detail, runs, session, actions, now);
  main.replaceChildren(
    header(data, session, live, actions, now),
    h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' }, notice),
    view,
  );
  for (const input of main.querySelectorAll<HTMLInputElement>('input[data-k]')) {
    const value = typed.get(input.dataset['k'] ?? '');
    if (value !== undefined) input.value = value;
  }
  if (focused !== undefined) main.querySelector<HTMLElement>(`[data-k="${CSS.escape(focused)}"]`)?.focus();
}

function showTokenForm(wrong: boolean): void {
  const main = document.getElementById('main');
  main?.replaceChildren(
    tokenForm(wrong, (value) => {
      token = value;
      sessionStorage.setItem(TOKEN_KEY, value);
      void start();
    }),
  );
}

async function loadStacks(): Promise<void> {
  data = (await api('/api/v1/stacks')) as StacksResponse;
}

async function loadDetail(): Promise<void> {
  if (stackId === undefined) return;
  try {
    detail = (await api(`/api/v1/stacks/${encodeURIComponent(stackId)}`)) as StackDetail;
    runs = ((await api('/api/v1/runs')) as { runs: RunRecord[] }).runs;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) notice = `no stack ${stackId}`;
    else throw error;
  }
}

/** The stack page reads its detail again shortly after a change (changes come in bursts). */
function loadDetailSoon(): void {
  if (detailTimer !== undefined) return;
  detailTimer = window.setTimeout(() => {
    detailTimer = undefined;
    loadDetail().then(render, () => undefined);
  }, 150);
}

function apply(event: string, payload: unknown): void {
  if (event === 'stacks') {
    data = payload as StacksResponse;
    if (stackId !== undefined) loadDetailSoon();
  } else if (event === 'stack' && data !== undefined) {
    const stack = payload as StackStatus;
    const rest = data.stacks.filter((s) => s.id !== stack.id);
    data = { ...data, stacks: [...rest, stack].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
    if (stack.id === stackId) loadDetailSoon();
  } else if (event === 'removed' && data !== undefined) {
    const { id } = payload as { id: string };
    data = { ...data, stacks: data.stacks.filter((s) => s.id !== id) };
  } else if (event === 'source' && data !== undefined) {
    data = { ...data, ...(payload as Omit<StacksResponse, 'stacks'>) };
  } else if (event === 'runs') {
    runs = (payload as { runs: RunRecord[] }).runs;
  }
  render();
}

/** Follows the event stream until it ends; then polls, and tries the stream again. */
async function follow(): Promise<void> {
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  try {
    const response = await fetch('/api/v1/events', {
      headers: token === '' ? {} : { authorization: `Bearer ${token}` },
      signal: controller.signal,
      cache: 'no-store',
    });
    if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new EventParser();
    live = 'live';
    stopPolling();
    render();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const event of parser.push(value)) apply(event.event, JSON.parse(event.data) as unknown);
    }
  } catch {
    // Dropped or refused: polling below keeps the page current.
  }
  if (stream !== controller) return;
  live = 'polling';
  render();
  startPolling();
  window.setTimeout(() => void follow(), RECONNECT_MS);
}

function startPolling(): void {
  if (pollTimer !== undefined) return;
  pollTimer = window.setInterval(() => {
    Promise.all([loadStacks(), loadDetail()]).then(render, () => undefined);
  }, POLL_MS);
}

function stopPolling(): void {
  if (pollTimer !== undefined) window.clearInterval(pollTimer);
  pollTimer = undefined;
}

async function start(): Promise<void> {
  session = (await api('/api/v1/session')) as Session;
  document.title = session.instance === '' ? 'stackd' : `stackd · ${session.instance}`;
  if (!session.canRead) {
    showTokenForm(token !== '');
    return;
  }
  await Promise.all([loadStacks(), loadDetail()]);
  render();
  void follow();
}

// Ages ("5m ago") move on by themselves.
window.setInterval(render, 30_000);
start().catch((error: unknown) => {
  document
    .getElementById('main')
    ?.replaceChildren(h('p', { class: 'alert', role: 'alert' }, `cannot load: ${(error as Error).message}`));
});
