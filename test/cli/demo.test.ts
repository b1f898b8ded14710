// Issue 11, point 8: `npm start -- --demo` (`cubemaster server --demo`): the master prints where
// its console is and what to try next, simulated nodes register in the same process, a demo user
// and vol appear once they reported, and SIGTERM stops the nodes and then the master, exit 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cfsGet } from '../integration/cfs-client.js';
import { MAIN_JS } from '../integration/master-process.js';
import { waitUntil } from '../integration/member-status.js';

const HOST = '127.0.76.1';

void test('server --demo prints the console URL, shows nodes, a user and a vol, and stops in order on SIGTERM', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'demo-'));
  const config = path.join(dir, 'master.json');
  writeFileSync(config, JSON.stringify({ role: 'master', ip: HOST, bindIp: true, listen: '17010', replicaPort: '17110', nodeHeartbeatIntervalMs: 500 }));
  const child = spawn(process.execPath, [MAIN_JS, 'server', '--config', config, '--demo'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = `http://${HOST}:17010`;
    // The demo's last step done: the vol created and owned by the demo user.
    await waitUntil('the demo vol', async () => (await cfsGet<{ policy: { own_vols: string[] } }>(url, '/user/info', { user: 'demo' }, { timeoutMs: 2_000 })).envelope?.data?.policy.own_vols.includes('demo'), 60_000);
    assert.equal((await cfsGet(url, '/admin/getVol', { name: 'demo' })).envelope?.code, 0);
    assert.match(stderr, new RegExp(`console:\\s+http://${HOST.replace(/\./g, '\\.')}:17010/console`));
    assert.match(stderr, /try:\s+node dist\/src\/cli\/main\.js status --masters/);
    const metaNodes = await cfsGet<unknown[]>(url, '/admin/cluster/getAllMetaNodes');
    assert.equal(metaNodes.envelope?.data.length, 3);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    // The nodes went first: the master logged no request error from them after it began to stop.
    assert.doesNotMatch(stdout, /"level":50/);
  } finally {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
