// Comparison of two normalized cfs-cli results and the report: a per-case diff that names the
// differing `Label : value` fields first, then the differing lines, and a summary table.

export interface Normalized {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Verdict {
  readonly match: boolean;
  /** One line: what differs first. */
  readonly reason: string;
  readonly diff: string;
}

const LABEL_LINE = /^ ?([A-Za-z][\w ()/.\-[\]]*?) ?: ?(.*)$/;

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = LABEL_LINE.exec(line);
    if (m === null) continue;
    let key = m[1];
    for (let n = 2; out.has(key); n++) key = `${m[1]} #${n}`;
    out.set(key, m[2]);
  }
  return out;
}

/** Longest-common-subsequence line diff, `-` for a, `+` for b, with up to 2 lines of context. */
export function lineDiff(a: string, b: string, maxLines = 80): string[] {
  const x = a === '' ? [] : a.split('\n');
  const y = b === '' ? [] : b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: { op: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push({ op: ' ', line: x[i] });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push({ op: '+', line: y[j++] });
    } else {
      ops.push({ op: '-', line: x[i++] });
    }
  }
  const keep = ops.map((o, k) => o.op !== ' ' || ops.slice(Math.max(0, k - 2), k + 3).some((p) => p.op !== ' '));
  const out: string[] = [];
  let skipped = false;
  for (const [k, o] of ops.entries()) {
    if (!keep[k]) {
      if (!skipped) out.push('   …');
      skipped = true;
      continue;
    }
    skipped = false;
    out.push(`${o.op}  ${o.line}`);
  }
  if (out.length > maxLines) return [...out.slice(0, maxLines), `   … ${out.length - maxLines} more diff lines`];
  return out;
}

function quote(s: string | undefined): string {
  return s === undefined ? '(absent)' : JSON.stringify(s);
}

export function compareResults(aLabel: string, a: Normalized, bLabel: string, b: Normalized): Verdict {
  const problems: string[] = [];
  const diff: string[] = [];
  if (a.code !== b.code) problems.push(`exit ${aLabel}=${a.code} ${bLabel}=${b.code}`);
  for (const stream of ['stdout', 'stderr'] as const) {
    if (a[stream] === b[stream]) continue;
    const fa = fields(a[stream]);
    const fb = fields(b[stream]);
    const fieldLines: string[] = [];
    for (const key of new Set([...fa.keys(), ...fb.keys()])) {
      if (fa.get(key) !== fb.get(key)) fieldLines.push(`    ${key}: ${aLabel} ${quote(fa.get(key))} | ${bLabel} ${quote(fb.get(key))}`);
    }
    const firstField = fieldLines[0]?.trim();
    const firstLine = lineDiff(a[stream], b[stream], 400).find((l) => l.startsWith('-') || l.startsWith('+'));
    problems.push(`${stream}: ${firstField ?? firstLine ?? 'differs'}`);
    diff.push(`  ${stream} (- ${aLabel}, + ${bLabel}):`);
    if (fieldLines.length > 0) {
      diff.push(`   fields that differ (${fieldLines.length}):`);
      diff.push(...fieldLines.slice(0, 40));
      if (fieldLines.length > 40) diff.push(`    … ${fieldLines.length - 40} more`);
      diff.push('   lines:');
    }
    diff.push(...lineDiff(a[stream], b[stream]).map((l) => `    ${l}`));
  }
  return { match: problems.length === 0, reason: problems.join('; '), diff: diff.join('\n') };
}

/** One cell of the summary: the exit code and the first line the command printed. */
export function summarize(r: Normalized, width = 44): string {
  const first = (r.code === 0 ? r.stdout : r.stderr || r.stdout).split('\n').find((l) => l.trim() !== '') ?? '';
  const text = `${r.code}: ${first.trim()}`;
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
