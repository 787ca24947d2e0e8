/** Plain-text tables and short forms for the CLI. */
import type { StacksResponse } from '../../internal/status/index.js';

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

/** The stack table of `status` and `sync --once`. */
export function stacksTable(response: StacksResponse, now = Date.now()): string {
  const rows = response.stacks.map((s) => [
    s.id,
    s.status,
    shortRev(s.synced?.revision),
    s.lastResult ? s.lastResult.outcome : '-',
    age(s.lastResult?.at ?? s.synced?.at, now),
    s.message.replace(/\s+/g, ' ').slice(0, 120),
  ]);
  const head = `revision ${shortRev(response.revision)}${response.reconcileEnabled ? '' : '  (reconciliation paused)'}`;
  return `${head}\n${table(['STACK', 'STATUS', 'SYNCED', 'LAST RESULT', 'AGE', 'MESSAGE'], rows)}`;
}
