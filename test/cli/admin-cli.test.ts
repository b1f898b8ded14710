// Issue 11, point 2: the admin CLI as a real process against 3 real masters with simulated nodes:
// tables by default, --json for scripts, the documented exit codes, leader discovery from any
// (even a dead) address, membership changes (remove, add as learner with catch-up progress,
// promote, a brand-new master joining, transfer leadership), vols, users, nodes and a decommission followed to the end,
// and a completion script that bash accepts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSimNodes, type SimNodes } from '../../src/nodes/sim/index.js';
import { MasterCluster } from '../integration/cluster.js';
import { MasterProcess } from '../integration/master-process.js';
import { memberStatus, waitUntil } from '../integration/member-status.js';
import { rootKeys, runCli } from './run-cli.js';

const CONFIG = { nodeHeartbeatIntervalMs: 500, dataPartitionTopUpDelayMs: 3_600_000, tickInterval: 50 };

void describe('cubemaster admin commands', { timeout: 240_000 }, () => {
  const cluster = new MasterCluster({ subnet: 74, size: 3, extraConfig: CONFIG });
  let nodes: SimNodes | null = null;
  let keys: Record<string, string> = {};
  let masters = '';
  const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--masters', masters], { env: { ...keys, ...env } });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json']);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const leaderId = async (): Promise<number> => (await json<{ leaderId: number }>(['status'])).leaderId;

  before(async () => {
    await cluster.start();
    const leader = await cluster.leader();
    masters = cluster.masters.map((m) => `${m.spec.host}:${m.spec.httpPort}`).join(',');
    keys = await rootKeys(leader.url);
    nodes = await startSimNodes({ masterAddrs: masters.split(','), meta: 3, data: 4 });
  });

  after(async () => {
    await nodes?.close();
    await cluster.stop();
    for (const m of cluster.masters) assert.deepEqual(m.crashLines(), [], `master ${m.spec.id}`);
    await cluster.destroy();
  });

  void it('status prints a table of the group, and the same data with --json', async () => {
    const human = await cli(['status']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^leader \d \(127\.0\.74\.\d:17010\)\s+term \d+\s+commit \d+\s+members 3/);
    assert.match(human.stdout, /ID\s+HTTP\s+RAFT\s+VOTE\s+ROLE\s+TERM\s+APPLIED\s+MATCH\s+LAG/);
    for (const m of cluster.masters) assert.match(human.stdout, new RegExp(`${m.spec.id}\\s+${m.spec.host}:17010\\s+${m.spec.host}:17110\\s+voter\\s+(leader|follower)`));
    const data = await json<{ leaderId: number; members: { id: number; learner: boolean; status: { applied: number } }[] }>(['status']);
    assert.deepEqual(data.members.map((m) => [m.id, m.learner]), [[1, false], [2, false], [3, false]]);
    assert.ok(data.members.every((m) => m.status.applied > 0));
  });

  void it('finds the cluster through a dead address first in --masters; exits 3 when no master answers', async () => {
    const r = await runCli(['status', '--json', '--masters', `127.0.74.9:17010,${masters}`]);
    assert.equal(r.code, 0, r.stderr);
    const none = await runCli(['status', '--masters', '127.0.74.9:17010,127.0.74.10:17010', '--timeout-ms', '2000']);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /no master answered .*127\.0\.74\.9:17010: (ECONNREFUSED|EHOSTUNREACH|no answer)/);
  });

  void it('exits 4 without root keys or with a wrong secret, 2 on a usage error, 1 with the CubeFS code when refused', async () => {
    const noKeys = await runCli(['members', 'transfer-leader', '--masters', masters]);
    assert.equal(noKeys.code, 4);
    assert.match(noKeys.stderr, /needs the root user's keys/);
    const wrong = await cli(['members', 'transfer-leader'], { CUBEMASTER_SECRET_KEY: 'x'.repeat(32) });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /the master refused the root signature/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, new RegExp(keys.CUBEMASTER_SECRET_KEY), 'the secret key is never printed');
    assert.equal((await cli(['vol', 'create', 'v', 'alice', '--capacity', 'lots'])).code, 2);
    assert.equal((await cli(['members', 'frobnicate'])).code, 2);
    const missing = await cli(['vol', 'info', 'no_such_vol']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/admin\/getVol refused: code 7: vol not exists/);
    const asJson = await cli(['vol', 'info', 'no_such_vol', '--json']);
    assert.deepEqual((JSON.parse(asJson.stdout) as { error: { exitCode: number; code: number } }).error.code, 7);
  });

  void it('removes a member, adds it back as a learner that catches up with progress, promotes it, and moves leadership', async () => {
    // The leader itself: the CLI moves leadership away first.
    const target = cluster.masters[(await leaderId()) - 1];
    const removed = await cli(['members', 'remove', String(target.spec.id)]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, new RegExp(`leadership moved from master ${target.spec.id} to master \\d`));
    assert.match(removed.stdout, new RegExp(`master ${target.spec.id} removed`));
    const afterRemove = await json<{ id: number }[]>(['members', 'list']);
    assert.deepEqual(afterRemove.map((m) => m.id).includes(target.spec.id), false);

    const added = await cli(['members', 'add', String(target.spec.id), `${target.spec.host}:17010`, '--raft-addr', `${target.spec.host}:17110`, '--wait-ms', '60000']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, new RegExp(`master ${target.spec.id} \\(${target.spec.host}:17010\\) added as a learner`));
    assert.match(added.stderr, new RegExp(`master ${target.spec.id} catching up .*(match \\d+ = commit \\d+|a voter already)`));
    assert.match(added.stdout, new RegExp(`master ${target.spec.id} is a voter`));
    const members = await json<{ id: number; learner: boolean }[]>(['members', 'list']);
    assert.deepEqual(members.map((m) => [m.id, m.learner]), [[1, false], [2, false], [3, false]]);

    const current = await leaderId();
    const next = ((current % 3) + 1);
    const moved = await cli(['members', 'transfer-leader', String(next)]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(await leaderId(), next);
    await waitUntil('every member to follow the new leader', async () => {
      const s = await Promise.all(cluster.masters.map((m) => memberStatus(m.url)));
      return s.every((x) => x.leaderId === next);
    });
  });

  void it('adds a brand-new master started with empty directories and --join, then removes it', async () => {
    const newcomer = new MasterProcess({
      id: 4,
      host: '127.0.74.4',
      httpPort: 17010,
      raftPort: 17110,
      peers: `${cluster.masters.map((m) => `${m.spec.id}:${m.spec.host}:17010:17110`).join(',')},4:127.0.74.4:17010:17110`,
      dataDir: path.join(cluster.dir, 'm4'),
      extraConfig: { ...CONFIG, join: true },
    });
    try {
      await newcomer.start();
      const joined = await runCli(['members', 'add', '4', '127.0.74.4:17010', '--raft-addr', '127.0.74.4:17110', '--wait-ms', '60000', '--masters', masters], { env: keys, timeoutMs: 150_000 });
      assert.equal(joined.code, 0, `${joined.stderr}\n${newcomer.tail(20)}`);
      const four = await json<{ id: number; learner: boolean; status: { applied: number } | null }[]>(['members', 'list']);
      assert.deepEqual(four.map((m) => [m.id, m.learner]), [[1, false], [2, false], [3, false], [4, false]]);
      assert.ok((four[3].status?.applied ?? 0) > 0, 'the newcomer applied the log');
      const gone = await cli(['members', 'remove', '4']);
      assert.equal(gone.code, 0, gone.stderr);
      newcomer.signal('SIGTERM');
      await newcomer.waitExit(15_000);
      assert.deepEqual(newcomer.crashLines(), []);
    } finally {
      await newcomer.kill();
    }

  });

  void it('manages users and vols, with tables and --json', async () => {
    const created = await json<{ user_id: string; secret_key: string }>(['user', 'create', 'carol', '--type', 'admin']);
    assert.equal(created.user_id, 'carol');
    const info = await cli(['user', 'info', 'carol']);
    assert.match(info.stdout, /type:\s+admin/);
    assert.match(info.stdout, /secret key:\s+\(hidden: --show-keys\)/);
    assert.doesNotMatch(info.stdout, new RegExp(created.secret_key));
    assert.match((await cli(['user', 'info', 'carol', '--show-keys'])).stdout, new RegExp(created.secret_key));
    assert.match((await cli(['user', 'list'])).stdout, /ID\s+TYPE\s+ACCESS KEY[\s\S]*carol\s+admin/);

    await waitUntil('vol create', async () => {
      const r = await cli(['vol', 'create', 'cvol', 'carol', '--capacity', '5', '--dp-count', '3']);
      return r.code === 0 ? r : null;
    }, 60_000);
    assert.match((await cli(['vol', 'list'])).stdout, /NAME\s+OWNER\s+STATUS\s+CAPACITY[\s\S]*cvol\s+carol\s+normal\s+5\.0 GiB/);
    const vol = await json<{ Name: string; Capacity: number; MpCnt: number }>(['vol', 'info', 'cvol']);
    assert.deepEqual([vol.Name, vol.Capacity, vol.MpCnt], ['cvol', 5, 3]);
    assert.equal((await cli(['vol', 'expand', 'cvol', '8'])).code, 0);
    assert.equal((await json<{ Capacity: number }>(['vol', 'info', 'cvol'])).Capacity, 8);
    const refused = await cli(['user', 'delete', 'carol']);
    assert.equal(refused.code, 1, 'a user that owns a vol cannot be deleted');
  });

  void it('lists nodes and follows a decommission until the node holds no partition', async () => {
    const list = await json<{ kind: string; Addr: string }[]>(['node', 'list']);
    assert.deepEqual(list.map((n) => n.kind).sort(), ['data', 'data', 'data', 'data', 'meta', 'meta', 'meta']);
    const holders = await Promise.all(
      list
        .filter((n) => n.kind === 'data')
        .map(async (n) => ({ addr: n.Addr, count: (await json<{ DataPartitionCount: number }>(['node', 'info', n.Addr])).DataPartitionCount })),
    );
    const busy = holders.find((h) => h.count > 0);
    assert.ok(busy !== undefined, `a data node holds partitions: ${JSON.stringify(holders)}`);
    const human = await cli(['node', 'info', busy.addr]);
    assert.match(human.stdout, /kind:\s+data[\s\S]*partitions:\s+\d+/);
    const done = await cli(['node', 'decommission', busy.addr, '--kind', 'data', '--wait-ms', '90000'], {});
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, new RegExp(`decommissioning data node ${busy.addr.replace(/\./g, '\\.')}`));
    assert.match(done.stdout, new RegExp(`holds no partition any more \\(${busy.count} moved\\)`));
  });

  void it('prints a bash completion script that bash accepts and that knows the commands', async () => {
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.code, 0);
    for (const word of ['members', 'transfer-leader', 'snapshot', 'restore', '--data-dir', 'check-config']) assert.ok(r.stdout.includes(word), word);
    const bash = spawnSync('bash', ['-n'], { input: r.stdout });
    if (bash.error === undefined) assert.equal(bash.status, 0, bash.stderr.toString());
    assert.equal((await runCli(['completion', 'fish'])).code, 2);
  });
});
