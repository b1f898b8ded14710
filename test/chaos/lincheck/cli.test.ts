import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { fixturesDir } from './fixtures-dir.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lincheck-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runCli(...args: string[]): { status: number | null; lines: string[]; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, lines: result.stdout.trimEnd().split('\n'), stderr: result.stderr };
}

const STALE_READ_LOG = [
  'INFO  jepsen.util - 0\t:invoke\t:write\t1',
  'INFO  jepsen.util - 0\t:ok\t:write\t1',
  'INFO  jepsen.util - 1\t:invoke\t:write\t2',
  'INFO  jepsen.util - 1\t:ok\t:write\t2',
  'INFO  jepsen.util - 2\t:invoke\t:read\tnil',
  'INFO  jepsen.util - 2\t:ok\t:read\t1',
].join('\n');

void describe('cli', () => {
  void it('ends with not-linearizable, exits 0 and writes the timeline', () => {
    const log = join(dir, 'stale.log');
    writeFileSync(log, STALE_READ_LOG);
    const timeline = join(dir, 'out.html');
    const { status, lines } = runCli('--jepsen', log, '--timeline', timeline);
    assert.equal(status, 0);
    assert.equal(lines.at(-1), 'not-linearizable');
    assert.ok(lines.some((line) => line.includes('read → 1 [5, 6]')));
    assert.match(readFileSync(timeline, 'utf8'), /<svg /);
  });

  void it('ends with linearizable on a good history', () => {
    const log = join(dir, 'good.log');
    writeFileSync(log, STALE_READ_LOG.replace(':read\t1', ':read\t2'));
    const { status, lines } = runCli('--jepsen', log, '--timeline', join(dir, 'unused.html'));
    assert.equal(status, 0);
    assert.equal(lines.at(-1), 'linearizable');
    assert.equal(existsSync(join(dir, 'unused.html')), false);
  });

  void it('checks a kv fixture', { skip: fixturesDir() === null ? 'shared/fixtures not found' : false }, () => {
    const { status, lines } = runCli('--kv', join(fixturesDir()!, 'kv', 'c10-bad.txt'));
    assert.equal(status, 0);
    assert.equal(lines.at(-1), 'not-linearizable');
  });

  void it('exits 2 on a usage error, a missing file or a malformed history', () => {
    assert.equal(runCli().status, 2);
    assert.equal(runCli('--jepsen', 'a', '--kv', 'b').status, 2);
    assert.equal(runCli('--bogus').status, 2);
    assert.equal(runCli('--kv', join(dir, 'missing.txt')).status, 2);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '{:process 0, :type :ok, :f :get, :key "k", :value "v"}');
    const malformed = runCli('--kv', bad);
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /bad\.txt:1/);
  });

  void it('exits 2 when it cannot decide in time', () => {
    // 16 concurrent writes and an impossible read: far more than 1 ms of search.
    const lines: string[] = [];
    for (let p = 0; p < 16; p++) lines.push(`INFO  jepsen.util - ${p}\t:invoke\t:write\t${p}`);
    for (let p = 0; p < 16; p++) lines.push(`INFO  jepsen.util - ${p}\t:ok\t:write\t${p}`);
    lines.push('INFO  jepsen.util - 99\t:invoke\t:read\tnil', 'INFO  jepsen.util - 99\t:ok\t:read\t42');
    const log = join(dir, 'hard.log');
    writeFileSync(log, lines.join('\n'));
    const { status, lines: out, stderr } = runCli('--jepsen', log, '--timeout-ms', '1');
    assert.equal(status, 2);
    assert.notEqual(out.at(-1), 'linearizable');
    assert.notEqual(out.at(-1), 'not-linearizable');
    assert.match(stderr, /could not decide: timeout/);
  });
});
