// `cubemaster recover` flags (docs/recovery.md): node addresses with an optional kind, node id
// hints inline or from a file, and a clear refusal naming the flag for anything else.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseNodeIdHints, parseNodeTargets, RecoverUsageError } from '../../src/cli/recover-command.js';

void describe('cubemaster recover flags', () => {
  void it('reads --nodes with and without a kind', () => {
    assert.deepEqual(parseNodeTargets('meta:10.0.0.1:17210, data:10.0.0.2:17310,10.0.0.3:17310'), [
      { kind: 'meta', addr: '10.0.0.1:17210' },
      { kind: 'data', addr: '10.0.0.2:17310' },
      { kind: 'any', addr: '10.0.0.3:17310' },
    ]);
    assert.deepEqual(parseNodeTargets(undefined), []);
  });

  void it('refuses an address that is not ip:port, naming the flag', () => {
    for (const bad of ['node1:17210', 'meta:10.0.0.1', 'disk:10.0.0.1:1', '10.0.0.1:99999']) {
      assert.throws(() => parseNodeTargets(bad), (e: unknown) => e instanceof RecoverUsageError && e.message.startsWith('--nodes'), bad);
    }
  });

  void it('reads --node-ids inline and from a JSON file', () => {
    assert.deepEqual(parseNodeIdHints('10.0.0.1:17210=21,10.0.0.2:17310=31'), [
      { addr: '10.0.0.1:17210', id: 21 },
      { addr: '10.0.0.2:17310', id: 31 },
    ]);
    const dir = mkdtempSync(path.join(tmpdir(), 'recover-flags-'));
    try {
      const file = path.join(dir, 'ids.json');
      writeFileSync(file, JSON.stringify({ '10.0.0.3:17210': 7 }));
      assert.deepEqual(parseNodeIdHints(`@${file}`), [{ addr: '10.0.0.3:17210', id: 7 }]);
      writeFileSync(file, '[1]');
      assert.throws(() => parseNodeIdHints(`@${file}`), RecoverUsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const bad of ['10.0.0.1:17210', '10.0.0.1:17210=0', '10.0.0.1:17210=x', 'host:1=2', '@/nonexistent/ids.json']) {
      assert.throws(() => parseNodeIdHints(bad), (e: unknown) => e instanceof RecoverUsageError && e.message.startsWith('--node-ids'), bad);
    }
  });
});
