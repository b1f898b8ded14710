// Normalization of cfs-cli output before two targets are compared. Only what legitimately
// differs between two correct masters is rewritten: the addresses and ports each run was given,
// its temp dir, wall-clock times, generated access/secret keys, the padding that follows from
// those, and per case the host-dependent values (disk, memory, cpu) the case masks on purpose.
import type { NodeAddr } from './nodes.js';

export interface Substitution {
  readonly from: RegExp;
  readonly to: string;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The exact text `text` (not inside a longer number or word). */
export function literal(text: string, to: string): Substitution {
  return { from: new RegExp(`(?<![\\w.])${escapeRe(text)}(?![\\w])`, 'g'), to };
}

export interface Placeholders {
  /** placeholder (e.g. `{MN1}`) -> this target's actual text, for case arguments. */
  readonly values: Map<string, string>;
  readonly substitutions: Substitution[];
}

/** Placeholders for a target's masters, nodes and directory; the longest texts are replaced first. */
export function placeholders(masterAddrs: readonly string[], meta: readonly NodeAddr[], data: readonly NodeAddr[], dir: string): Placeholders {
  const values = new Map<string, string>();
  const subs: { text: string; to: string }[] = [];
  masterAddrs.forEach((addr, i) => {
    values.set(`{M${i + 1}}`, addr);
    subs.push({ text: addr, to: `{M${i + 1}}` });
  });
  const nodes = (list: readonly NodeAddr[], prefix: string): void => {
    list.forEach((n, i) => {
      const name = `${prefix}${i + 1}`;
      values.set(`{${name}}`, n.addr);
      subs.push({ text: n.addr, to: `{${name}}` });
      const port = n.addr.slice(n.addr.lastIndexOf(':') + 1);
      // The alias list after an address: `(localhost:28210,vm:28210)`.
      subs.push({ text: `:${port}`, to: `:{${name}.port}` });
      if (n.heartbeatPort !== undefined) subs.push({ text: String(n.heartbeatPort), to: `{${name}.hb}` });
      if (n.replicaPort !== undefined) subs.push({ text: String(n.replicaPort), to: `{${name}.rp}` });
    });
  };
  nodes(meta, 'MN');
  nodes(data, 'DN');
  values.set('{DIR}', dir);
  const substitutions: Substitution[] = [{ from: new RegExp(escapeRe(dir), 'g'), to: '{DIR}' }];
  for (const s of subs.sort((a, b) => b.text.length - a.text.length)) {
    // `:port` is preceded by a host name, so only its end needs a boundary.
    substitutions.push(s.text.startsWith(':') ? { from: new RegExp(`${escapeRe(s.text)}(?!\\d)`, 'g'), to: s.to } : literal(s.text, s.to));
  }
  return { values, substitutions };
}

/** A user's generated keys, replaced by `{ak:<user>}` / `{sk:<user>}`. */
export interface UserKeys {
  readonly user: string;
  readonly ak: string;
  readonly sk: string;
}

export function keySubstitutions(users: Iterable<UserKeys>, explicitKeys: ReadonlySet<string>): Substitution[] {
  const out: Substitution[] = [];
  for (const u of users) {
    // Keys a case passed explicitly must come back verbatim: never hide them.
    if (u.ak !== '' && !explicitKeys.has(u.ak)) out.push(literal(u.ak, `{ak:${u.user}}`));
    if (u.sk !== '' && !explicitKeys.has(u.sk)) out.push(literal(u.sk, `{sk:${u.user}}`));
  }
  return out;
}

const TIME_PATTERNS: RegExp[] = [
  // 2026-11-25 18:52:25 (and the zero time 0001-01-01 00:00:00 kept as it is).
  /(?<!\d)(?!0001-)\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}(?: [A-Z]{2,5})?)?(?!\d)/g,
  // Wed, 25 Nov 2026 18:52:35 UTC
  /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [A-Z]{2,5}\b/g,
];

/** A mask hides a host- or time-dependent value on purpose; `pre` (group 1) is kept. */
export interface Mask {
  readonly re: RegExp;
  readonly why: string;
}

/** The value of a `Label : value` line. */
export function maskLabel(label: string, why: string): Mask {
  return { re: new RegExp(`^( ?${escapeRe(label)} ?:)(.*)$`, 'gm'), why };
}

/** Whatever `re` matches (its first group, if any, is kept). */
export function maskPattern(re: RegExp, why: string): Mask {
  return { re: new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`), why };
}

export interface NormalizeOptions {
  readonly substitutions: readonly Substitution[];
  readonly masks?: readonly Mask[];
  /** Sort the lines after the first n: for rows the Go master lists in map order. */
  readonly sortRowsAfter?: number;
}

export function normalize(text: string, options: NormalizeOptions): string {
  let out = text.replace(/\r\n/g, '\n');
  for (const s of options.substitutions) out = out.replace(s.from, s.to);
  for (const re of TIME_PATTERNS) out = out.replace(re, '<time>');
  // Padding follows from the lengths of what was replaced: compare words, not columns.
  let lines = out.split('\n').map((l) => l.replace(/[ \t]+/g, ' ').trimEnd());
  out = lines.join('\n');
  for (const m of options.masks ?? []) out = out.replace(m.re, (...args: unknown[]) => (typeof args[1] === 'string' ? `${args[1]} <masked>` : '<masked>'));
  lines = out.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (options.sortRowsAfter !== undefined) lines = [...lines.slice(0, options.sortRowsAfter), ...lines.slice(options.sortRowsAfter).sort()];
  return lines.join('\n');
}
