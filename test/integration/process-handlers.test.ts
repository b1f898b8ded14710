// Issue 3, point 6: an unhandled rejection anywhere is logged and ends the process with a
// non-zero code (after an orderly stop), never silently.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MasterProcess } from './master-process.js';

void test('an unhandled rejection is logged and the master exits with code 1', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unhandled-'));
  const master = new MasterProcess({ id: 1, host: '127.0.0.23', httpPort: 17010, raftPort: 17110, peers: '1:127.0.0.23:17010:17110', dataDir: dir });
  try {
    await master.start(20_000, { CUBEMASTER_TEST_UNHANDLED_REJECTION: '1' });
    const exit = await master.waitExit(15_000);
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.match(master.logs, /"msg":"unhandled rejection"/);
    assert.match(master.logs, /test: an unhandled rejection/);
    // It still stopped in order: the stores closed through their gates.
    assert.match(master.logs, /"step":"state store"/);
  } finally {
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
