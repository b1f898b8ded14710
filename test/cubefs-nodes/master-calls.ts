// Which master routes were called while an S3 phase ran, read from every running member's
// `/metrics` (cubemaster_api_requests_total) before and after: the objectnode's calls (the
// harness makes none during a phase), including any route cubemaster does not have ("unmatched").
import { httpGet } from '../cubefs/http.js';

/** `member route method status code=<code>` -> number of requests. */
export type CallCounts = Map<string, number>;

const LINE = /^cubemaster_api_requests_total\{([^}]*)\}\s+([0-9.e+]+)$/;

function labels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

/** The request counters of the given members, keyed `member route method status code`. */
export async function callCounts(memberUrls: readonly string[]): Promise<CallCounts> {
  const counts: CallCounts = new Map();
  for (const url of memberUrls) {
    const { status, body } = await httpGet(`${url}/metrics`, 5000);
    if (status !== 200) throw new Error(`GET ${url}/metrics: HTTP ${status}`);
    for (const line of body.split('\n')) {
      const m = LINE.exec(line.trim());
      if (m === null) continue;
      const l = labels(m[1]);
      const key = `${new URL(url).host} ${l.route} ${l.method} ${l.status} code=${l.code}`;
      counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
    }
  }
  return counts;
}

/** Node traffic (heartbeat responses, registration, self-checks): not what a phase is about. */
const NODE_ROUTE = /^\/(metaNode|dataNode)\/|^\/metrics$|^\/admin\/cluster\/getAll/;

export interface PhaseCall {
  readonly member: string;
  readonly route: string;
  readonly method: string;
  readonly status: string;
  readonly code: string;
  readonly count: number;
}

/** The client calls made between two snapshots, sorted by member then route. */
export function phaseCalls(before: CallCounts, after: CallCounts): PhaseCall[] {
  const out: PhaseCall[] = [];
  for (const [key, n] of after) {
    const delta = n - (before.get(key) ?? 0);
    if (delta <= 0) continue;
    const [member, route, method, status, code] = key.split(' ');
    if (NODE_ROUTE.test(route)) continue;
    out.push({ member, route, method, status, code: code.slice('code='.length), count: delta });
  }
  return out.sort((a, b) => a.member.localeCompare(b.member) || a.route.localeCompare(b.route));
}

export function formatCalls(calls: readonly PhaseCall[]): string {
  if (calls.length === 0) return '  (none)';
  return calls.map((c) => `  ${c.member} ${c.method} ${c.route} -> HTTP ${c.status} code ${c.code} x${c.count}`).join('\n');
}
