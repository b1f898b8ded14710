// Every shared fixture history gets its known verdict, each decided within the 10 s budget.
// Durations are printed (a table and a summary line) but not asserted on beyond that budget.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { check, type Verdict } from './check.js';
import { fixturesDir } from './fixtures-dir.js';
import { kvModel } from './models/kv-model.js';
import { registerModel } from './models/register-model.js';
import { parseJepsenRegisterLog } from './parsers/jepsen-register-log.js';
import { parseKvLog } from './parsers/kv-edn-log.js';

const DECISION_TIMEOUT_MS = 10_000;
const dir = fixturesDir();
const durations: { file: string; verdict: Verdict; ms: number; steps: number }[] = [];

function record(file: string, result: { verdict: Verdict; elapsedMs: number; steps: number }): void {
  durations.push({ file, verdict: result.verdict, ms: result.elapsedMs, steps: result.steps });
}

after(() => {
  if (durations.length === 0) return;
  const rows = [...durations].sort((a, b) => b.ms - a.ms);
  console.log('fixture                 verdict            ms      steps');
  for (const row of rows.slice(0, 10)) {
    console.log(`${row.file.padEnd(23)} ${row.verdict.padEnd(17)} ${row.ms.toFixed(1).padStart(7)} ${String(row.steps).padStart(10)}`);
  }
  const totalMs = rows.reduce((sum, row) => sum + row.ms, 0);
  console.log(`lincheck fixtures: ${rows.length} files, max ${rows[0].ms.toFixed(1)} ms (${rows[0].file}), total ${totalMs.toFixed(1)} ms`);
});

void describe('Jepsen etcd register fixtures', { skip: dir === null ? 'shared/fixtures not found beside the checkout' : false }, () => {
  const etcdDir = join(dir ?? '', 'jepsen-etcd');
  const verdicts = new Map(
    (dir ? readFileSync(join(etcdDir, 'VERDICTS'), 'utf8') : '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.trim().split(/\s+/) as [string, string]),
  );
  void it('has a verdict for every log', () => {
    const logs = readdirSync(etcdDir).filter((name) => name.endsWith('.log'));
    assert.deepEqual(logs.sort(), [...verdicts.keys()].sort());
  });
  for (const [file, expected] of verdicts) {
    void it(`${file} is ${expected}`, () => {
      const { operations, stats } = parseJepsenRegisterLog(file, readFileSync(join(etcdDir, file), 'utf8'));
      // Jepsen gives a process that got :info a fresh number; these logs keep to that.
      assert.equal(stats.invokesAfterInfo, 0);
      const result = check(registerModel, operations, { timeoutMs: DECISION_TIMEOUT_MS });
      record(file, result);
      assert.equal(result.verdict, expected);
    });
  }
});

void describe('kv fixtures', { skip: dir === null ? 'shared/fixtures not found beside the checkout' : false }, () => {
  const kvDir = join(dir ?? '', 'kv');
  const files = dir ? readdirSync(kvDir).filter((name) => /-(ok|bad)\.txt$/.test(name)).sort() : [];
  for (const file of files) {
    const expected: Verdict = file.endsWith('-ok.txt') ? 'linearizable' : 'not-linearizable';
    void it(`${file} is ${expected}`, () => {
      const { operations } = parseKvLog(file, readFileSync(join(kvDir, file), 'utf8'));
      const result = check(kvModel, operations, { timeoutMs: DECISION_TIMEOUT_MS });
      record(file, result);
      assert.equal(result.verdict, expected);
      if (expected === 'not-linearizable') assert.ok(result.anomaly && result.anomaly.window.length > 0);
    });
  }
});
