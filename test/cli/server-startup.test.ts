// Issue 11, point 6: a master that cannot start says why and what to do, on stderr, and exits 1
// at once: a data directory held by another process (the lock names it and its pid), an HTTP or
// Raft port taken (which port, which key), a damaged Raft log (which file, the recovery steps).
// A lock left by a SIGKILLed master does not stop its restart. Real processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { segmentFileName } from '../../src/storage/segment-files.js';
import { MAIN_JS } from '../integration/master-process.js';
import { MasterCluster } from '../integration/cluster.js';

const HOST = '127.0.75.1';

/** Runs `server` with this config until it exits (bounded); returns its code and stderr. */
function failingStart(dir: string, config: Record<string, unknown>): Promise<{ code: number | null; stderr: string; ms: number }> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `master-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ role: 'master', clusterName: 'itest', logLevel: 'warn', ...config }));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, 'server', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the second master did not exit: ${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}

void test('a master that cannot start names the lock, port or file, says what to do, and exits 1', { timeout: 120_000 }, async () => {
  const cluster = new MasterCluster({ subnet: 75, size: 1 });
  const first = cluster.masters[0];
  const data = first.spec.dataDir;
  const base = { id: '1', ip: HOST, bindIp: true, peers: `1:${HOST}:17010:17110` };
  try {
    await first.start();

    // The same directories: refused by the lock, naming it and the holder's pid.
    const same = await failingStart(path.join(cluster.dir, 'same'), { ...base, listen: '17011', peers: `1:${HOST}:17011:17111`, walDir: path.join(data, 'wal'), storeDir: path.join(data, 'store') });
    assert.equal(same.code, 1, same.stderr);
    assert.match(same.stderr, new RegExp(`in use by another cubemaster process \\(pid ${first.pid}`));
    assert.match(same.stderr, /lock file .*cubemaster\.lock/);
    assert.match(same.stderr, /what to do: .*stop it/);

    // Its HTTP port, then its Raft port, with directories of their own.
    const http = await failingStart(path.join(cluster.dir, 'http'), { ...base, listen: '17010', peers: `1:${HOST}:17010:17112`, walDir: 'w1', storeDir: 's1' });
    assert.equal(http.code, 1, http.stderr);
    assert.match(http.stderr, new RegExp(`the HTTP port ${HOST.replace(/\./g, '\\.')}:17010 is already in use`));
    assert.match(http.stderr, /config key "listen" \(flag --listen\)/);
    const raft = await failingStart(path.join(cluster.dir, 'raft'), { ...base, listen: '17012', peers: `1:${HOST}:17012:17110`, walDir: 'w2', storeDir: 's2' });
    assert.equal(raft.code, 1, raft.stderr);
    assert.match(raft.stderr, /the Raft port .*:17110 is already in use/);
    assert.match(raft.stderr, /replicaPort/);

    // A SIGKILLed master's lock is stale: it restarts.
    await first.kill();
    await first.start();
    first.signal('SIGTERM');
    assert.deepEqual(await first.waitExit(15_000), { code: 0, signal: null });

    // A damaged log (a segment missing in the middle): refused with the file and the recovery steps.
    const wal = path.join(data, 'wal');
    const segments = readdirSync(wal).filter((n) => n.endsWith('.seg')).sort();
    const last = Number(segments[segments.length - 1].slice(0, 20));
    copyFileSync(path.join(wal, segments[segments.length - 1]), path.join(wal, segmentFileName(last + 2)));
    const corrupt = await failingStart(path.join(cluster.dir, 'corrupt'), { ...base, listen: '17010', walDir: wal, storeDir: path.join(data, 'store') });
    assert.equal(corrupt.code, 1, corrupt.stderr);
    assert.match(corrupt.stderr, new RegExp(`the Raft log is damaged: .*${segmentFileName(last + 1)}`));
    assert.match(corrupt.stderr, /members remove 1.*members add 1.*snapshot restore/s);
    console.log(`refusals took ${same.ms} / ${http.ms} / ${raft.ms} / ${corrupt.ms} ms (process start included)`);
    assert.deepEqual(first.crashLines(), []);
  } finally {
    await cluster.destroy();
  }
});

void test('check-config prints the effective config and refuses an invalid one with exit 5', { timeout: 30_000 }, async () => {
  const { runCli } = await import('./run-cli.js');
  const ok = await runCli(['check-config', '--listen', '17020', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const parsed = JSON.parse(ok.stdout) as { config: { listen: number }; sources: Record<string, string> };
  assert.equal(parsed.config.listen, 17020);
  assert.equal(parsed.sources.listen, 'flag');
  const unknownFlag = await runCli(['check-config', '--election-tick', '1']);
  assert.equal(unknownFlag.code, 2, 'a flag that does not exist is a usage error');
  const bad2 = await runCli(['check-config', '--listen', '0']);
  assert.equal(bad2.code, 5);
  assert.match(bad2.stderr, /key "listen" \(from --listen\) = "0" is not allowed: must be an integer in \[1, 65535\]/);
});
