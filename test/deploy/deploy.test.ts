// The Grafana dashboard and the Prometheus alert rules in deploy/ must only use metrics a running
// master serves: a renamed or dropped series would otherwise leave a blank panel or an alert
// that can never fire, and nobody would notice until the night it was needed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { cfsGet, cfsRequest } from '../integration/cfs-client.js';
import { MasterProcess } from '../integration/master-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.join(here, '..', '..', '..');
const DASHBOARD = path.join(REPO, 'deploy', 'grafana', 'cubemaster.json');
const ALERTS = path.join(REPO, 'deploy', 'prometheus', 'cubemaster-alerts.yml');
const METRIC_NAME = /\b((?:cubemaster|process|nodejs)_[a-z0-9_]+)\b/g;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** Metric families in Prometheus text exposition: name -> type. */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m !== null) out.set(m[1], m[2]);
  }
  return out;
}

/** The family a referenced series belongs to (histogram series carry a suffix), or null. */
function familyOf(name: string, known: Map<string, string>): string | null {
  if (known.has(name)) return name;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
    if (base !== null && (known.get(base) === 'histogram' || known.get(base) === 'summary')) return base;
  }
  return null;
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  assert.ok(dashboard.panels.length >= 20, 'the dashboard has its panels');
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

function alertExpressions(): string[] {
  const text = readFileSync(ALERTS, 'utf8');
  const exprs = [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1]);
  for (const name of ['CubemasterNoLeader', 'CubemasterMemberLagging', 'CubemasterFsyncSlow', 'CubemasterNodesInactive']) {
    assert.match(text, new RegExp(`alert: ${name}\\b`), `the rules define ${name}`);
  }
  return exprs;
}

void test('every metric the Grafana dashboard and the alert rules use is served by a master', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-metrics-'));
  const master = new MasterProcess({ id: 1, host: '127.0.72.1', httpPort: 17010, raftPort: 17110, peers: '1:127.0.72.1:17010:17110', dataDir: dir });
  try {
    await master.start();
    // Some traffic, so that the event-driven series have samples too.
    for (let i = 0; i < 5; i++) {
      const created = await cfsRequest(master.url, '/user/create', { method: 'POST', body: { id: `deploy${i}`, type: 3 } });
      assert.equal(created.envelope?.code, 0, created.body);
    }
    assert.equal((await cfsGet(master.url, '/user/info', { user: 'deploy0' })).envelope?.code, 0);
    const text = (await cfsGet(master.url, '/metrics')).body;
    const known = families(text);

    const used = new Set<string>();
    for (const expr of [...dashboardExpressions(), ...alertExpressions()]) for (const m of expr.matchAll(METRIC_NAME)) used.add(m[1]);
    assert.ok(used.size >= 20, `${used.size} metrics referenced`);
    const missing = [...used].filter((name) => familyOf(name, known) === null).sort();
    assert.deepEqual(missing, [], `referenced in deploy/ but not served: ${missing.join(', ')}`);

    // The event-driven series of a write carry samples, not just a declaration.
    for (const series of ['cubemaster_raft_log_persist_seconds_count', 'cubemaster_raft_proposal_seconds_count{result="ok"}', 'cubemaster_raft_read_index_seconds_count{result="ok"}', 'cubemaster_state_store_write_seconds_count', 'cubemaster_raft_apply_entries_count']) {
      const line = text.split('\n').find((l) => l.startsWith(series));
      assert.ok(line !== undefined && Number(line.split(' ').pop()) > 0, `${series} has samples: ${line}`);
    }
    assert.match(text, /cubemaster_objects\{kind="user"\} 6/, 'five users and root');
    assert.match(text, /cubemaster_raft_is_leader 1/);
  } finally {
    master.signal('SIGTERM');
    await master.waitExit(20_000).catch(() => master.kill());
    rmSync(dir, { recursive: true, force: true });
  }
});
