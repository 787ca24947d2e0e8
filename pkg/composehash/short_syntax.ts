/**
 * compose's short syntaxes as the long entries compose makes of them: `ports`, `volumes`,
 * `extra_hosts`, and a `command` written as one string.
 */
import { splitWords, UnclosedQuoteError } from '../shellwords/index.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { rebasePath } from './paths.js';

/** A short `ports` entry (`[ip:][published:]target[/protocol]`, ranges expanded) as long entries. */
export function portEntries(item: Json): Json[] {
  if (isObject(item)) {
    const out: JsonObject = { ...item, mode: item['mode'] ?? 'ingress', protocol: item['protocol'] ?? 'tcp' };
    if (typeof out['target'] === 'string' && /^\d+$/.test(out['target']))
      out['target'] = Number(out['target']);
    if (typeof out['published'] === 'number') out['published'] = String(out['published']);
    return [out];
  }
  if (typeof item !== 'string' && typeof item !== 'number') return [item];
  const text = String(item);
  const slash = text.lastIndexOf('/');
  const protocol = slash === -1 ? 'tcp' : text.slice(slash + 1);
  const spec = slash === -1 ? text : text.slice(0, slash);
  const match = /^(?:(\[[^\]]*\]|[^:[\]]*):)??(?:([^:]*):)?([^:]+)$/.exec(spec);
  if (match === null) return [item];
  const [, ip, published, target] = match;
  const targets = range(target ?? '');
  const publishedRange = published === undefined || published === '' ? undefined : range(published);
  if (targets === undefined || (publishedRange === undefined && published !== undefined && published !== ''))
    return [item];
  return targets.map((port, i) => {
    const out: JsonObject = { mode: 'ingress', target: port, protocol };
    if (ip !== undefined && ip !== '') out['host_ip'] = ip.replace(/^\[(.*)\]$/, '$1');
    if (publishedRange !== undefined) {
      out['published'] =
        publishedRange.length === targets.length ? String(publishedRange[i]) : (published ?? '');
    }
    return out;
  });
}

function range(text: string): number[] | undefined {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (match === null) return undefined;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (to < from || to - from > 65535) return undefined;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A short `volumes` entry (`source:target[:mode]`, or `target`) as the long entry compose makes. */
export function volumeEntry(item: Json, base: string): Json {
  if (isObject(item)) {
    const out: JsonObject = { ...item };
    const source = out['source'];
    if (out['type'] === 'bind' && typeof source === 'string') out['source'] = rebasePath(source, base);
    return out;
  }
  if (typeof item !== 'string') return item;
  const parts = splitVolume(item);
  if (parts.length === 1) return { type: 'volume', target: parts[0] ?? '' };
  const [source = '', target = '', mode] = parts;
  const isPath = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
  const out: JsonObject = isPath
    ? { type: 'bind', source: rebasePath(source, base), target, bind: { create_host_path: true } }
    : { type: 'volume', source, target, volume: {} };
  for (const option of (mode ?? '').split(',').filter((o) => o !== '')) {
    if (option === 'ro') out['read_only'] = true;
    else if (option === 'rw') continue;
    else if ((option === 'z' || option === 'Z') && isObject(out['bind']))
      out['bind'] = { ...out['bind'], selinux: option };
    else if (option === 'nocopy' && isObject(out['volume'])) out['volume'] = { nocopy: true };
    else if (
      ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(option) &&
      isObject(out['bind'])
    )
      out['bind'] = { ...out['bind'], propagation: option };
    else if (['cached', 'delegated', 'consistent'].includes(option)) out['consistency'] = option;
  }
  return out;
}

/** `C:\x:/y:ro` keeps its drive letter; otherwise split on `:`. */
function splitVolume(text: string): string[] {
  const parts = text.split(':');
  if (parts.length >= 3 && /^[A-Za-z]$/.test(parts[0] ?? ''))
    return [`${parts[0]}:${parts[1]}`, ...parts.slice(2)];
  return parts;
}

/** `command: echo hi` and `command: [echo, hi]` are one value (compose splits shell words). */
export function shellSplit(text: string): Json {
  try {
    return splitWords(text);
  } catch (error) {
    if (error instanceof UnclosedQuoteError) return text;
    throw error;
  }
}

/** `host=ip` entries, sorted (compose's form): `host:ip`, `host=ip` and `{host: ip | [ips]}` alike. */
export function hostEntries(value: Json): Json {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') continue;
      const at = item.search(/[=:]/);
      out.add(at === -1 ? item : `${item.slice(0, at)}=${item.slice(at + 1)}`);
    }
  } else if (isObject(value)) {
    for (const [host, ips] of Object.entries(value)) {
      for (const ip of Array.isArray(ips) ? ips : [ips]) {
        if (typeof ip === 'string' || typeof ip === 'number') out.add(`${host}=${ip}`);
      }
    }
  } else return value;
  return [...out].sort();
}
