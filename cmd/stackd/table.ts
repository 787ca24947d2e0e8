/** Plain-text tables and short forms for the CLI: the stack table, one stack's detail, the source line. */
import type { SourceStatus, StackDetail, StackStatus, StacksResponse } from '../../internal/status/index.js';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const shortRev = (rev: string | null | undefined): string => (rev ? rev.slice(0, 12) : '-');

/** `5s`, `3m`, `2h`, `4d` since an RFC 3339 time. */
export function age(at: string | null | undefined, now = Date.now()): string {
  if (!at) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** The longest message the stack table shows; longer ones end in `…` and a note says where the rest is. */
export const MESSAGE_WIDTH = 120;

/**
 * The AGE column: since the running containers were applied (not since a commit that changed
 * nothing for the stack moved `synced.at`); a stack never synced shows its last result's age.
 */
export function appliedAge(s: StackStatus, now = Date.now()): string {
  return age(s.synced?.appliedAt ?? s.synced?.at ?? s.lastResult?.at, now);
}

/** `source failing since 5m: <error>` when the last fetch failed; undefined when it succeeded. */
export function sourceLine(source: SourceStatus | undefined, now = Date.now()): string | undefined {
  if (source?.lastError == null) return undefined;
  const since = source.failingSince === null ? '' : ` for ${age(source.failingSince, now)}`;
  const good =
    source.lastSuccessAt === null
      ? 'no fetch has succeeded yet'
      : `last good fetch ${age(source.lastSuccessAt, now)} ago; stacks are reconciled against it`;
  return `SOURCE FAILING${since} (${source.url}, branch ${source.branch}; ${good}):\n  ${source.lastError}`;
}

/**
 * The stack table of `status` and `sync --once`; `withSource`: the SOURCE FAILING line first
 * (`status`: the daemon's fetches; `sync --once` logs its one fetch's failure instead).
 */
export function stacksTable(response: StacksResponse, now = Date.now(), withSource = true): string {
  const messages = response.stacks.map((s) =>
    (s.message === '' ? updatesNote(s) : s.message).replace(/\s+/g, ' '),
  );
  const cut = messages.some((m) => m.length > MESSAGE_WIDTH);
  const rows = response.stacks.map((s, i) => {
    const message = messages[i] ?? '';
    return [
      s.id,
      // A 0.1 daemon answers no `suspended`.
      s.suspended == null ? s.status : `${s.status} (suspended)`,
      shortRev(s.synced?.revision),
      s.lastResult ? s.lastResult.outcome : '-',
      appliedAge(s, now),
      message.length > MESSAGE_WIDTH ? `${message.slice(0, MESSAGE_WIDTH - 1)}…` : message,
    ];
  });
  const source = withSource ? sourceLine(response.source, now) : undefined;
  const head = `revision ${shortRev(response.revision)}${response.reconcileEnabled ? '' : '  (reconciliation paused)'}`;
  return [
    ...(source === undefined ? [] : [source]),
    head,
    table(['STACK', 'STATUS', 'SYNCED', 'LAST RESULT', 'AGE', 'MESSAGE'], rows),
    ...(cut ? ['(… messages cut: stackd status ID shows one stack in full)'] : []),
  ].join('\n');
}

/** `update available: app (sha256:0123456789ab)` for the watched services whose registry has a digest they do not run. */
export function updatesNote(s: Pick<StackStatus, 'services'>): string {
  const waiting = s.services.filter((v) => typeof v.availableDigest === 'string');
  if (waiting.length === 0) return '';
  return `update available: ${waiting.map((v) => `${v.name} (${shortDigest(v.availableDigest)})`).join(', ')}`;
}

const shortDigest = (digest: string | null | undefined): string => (digest ? digest.slice(0, 19) : '-');
/** A revision, or (an image update's rollback) a digest. */
const shortRef = (ref: string): string => (ref.startsWith('sha256:') ? shortDigest(ref) : shortRev(ref));

/** `stackd status ID`: everything the API knows of one stack, for a person. */
export function stackDetail(s: StackDetail, now = Date.now()): string {
  const rev = (r: { revision: string; composeHash: string } | null): string =>
    r === null ? '-' : `${shortRev(r.revision)} (${r.composeHash.slice(0, 19)})`;
  const lines = [
    `stack    ${s.id} (project ${s.project})`,
    `status   ${s.status}`,
    ...(s.message === '' ? [] : [`message  ${s.message.replace(/\n/g, '\n         ')}`]),
    ...(updatesNote(s) === '' ? [] : [`images   ${updatesNote(s)}`]),
    ...(s.suspended == null
      ? []
      : [
          `suspended ${s.suspended.by === 'api' ? 'by stackd suspend' : 'in x-stackd.suspend'} ${age(s.suspended.at, now)} ago: ${s.suspended.reason}`,
        ]),
    `desired  ${rev(s.desired)}`,
    `synced   ${rev(s.synced)}${s.synced === null ? '' : `, applied ${appliedAge(s, now)} ago`}`,
    `last     ${
      s.lastResult === null
        ? '-'
        : `${s.lastResult.outcome} ${age(s.lastResult.at, now)} ago (${s.lastResult.durationMs} ms)`
    }`,
    ...(s.rollback === null
      ? []
      : [
          `rollback ${shortRef(s.rollback.from)} → ${shortRef(s.rollback.to)} ${age(s.rollback.at, now)} ago: ${s.rollback.reason}`,
        ]),
    '',
    table(
      ['SERVICE', 'STATE', 'HEALTH', 'IN SYNC', 'RESTARTS', 'IMAGE', 'DIGEST', 'AVAILABLE'],
      s.services.map((v) => [
        v.name,
        v.state,
        v.health ?? '-',
        v.inSync ? 'yes' : 'no',
        v.restarts == null ? '-' : String(v.restarts),
        v.image ?? '-',
        // Only watched services (x-stackd.update / images.update) have digests.
        v.digest === undefined ? '-' : shortDigest(v.digest),
        typeof v.availableDigest === 'string' ? `${shortDigest(v.availableDigest)} (update available)` : '-',
      ]),
    ),
    '',
    s.history.length === 0
      ? 'no history yet'
      : table(
          ['WHEN', 'ACTION', 'RESULT', 'REVISION', 'CHANGES', 'MESSAGE'], // newest first
          s.history.map((h) => [
            `${age(h.at, now)} ago`,
            h.action,
            h.outcome,
            shortRev(h.revision),
            // Why, by service: `web: file conf/app.conf; db: new`.
            (h.changes ?? []).map((c) => `${c.service}: ${c.why}`).join('; ') || '-',
            h.message.replace(/\s+/g, ' '),
          ]),
        ),
  ];
  return lines.join('\n');
}
