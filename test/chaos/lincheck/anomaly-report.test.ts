import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { check } from './check.js';
import { registerModel } from './models/register-model.js';
import { LOST, read, write } from './register-history-builder.js';
import { formatAnomaly } from './report/anomaly-text.js';
import { writeTimelineHtml } from './report/timeline-html.js';

void describe('anomaly report', () => {
  // Ops 0-2 set the register to 3 well before; then 4 is written (op 3), and a read that
  // starts after that write returned still sees 3 (op 5). Op 4 is an unrelated later read.
  const history = [
    write(0, 0, 1, 1),
    write(1, 2, 3, 2),
    write(0, 4, 5, 3),
    write(1, 10, 12, 4),
    read(3, 20, 21, 4),
    read(2, 13, 15, 3),
  ];
  const result = check(registerModel, history);
  const anomaly = result.anomaly!;
  const idOf = (opIndex: number): number => anomaly.historyIds[opIndex];

  void it('blames the stale read and puts only the operations around it in the window', () => {
    assert.equal(result.verdict, 'not-linearizable');
    assert.equal(idOf(anomaly.blockedOpIndex), 5);
    assert.equal(anomaly.failureTime, 15);
    assert.deepEqual(anomaly.pending.map((p) => idOf(p.opIndex)), [5]);
    assert.deepEqual(anomaly.window.map(idOf), [5]);
    assert.deepEqual(anomaly.prefix.map(idOf), [0, 1, 2, 3]);
    assert.equal(anomaly.stateAfterPrefix, 4);
  });

  void it('says so in text, naming the read and the state it cannot be read from', () => {
    const text = formatAnomaly(registerModel, anomaly);
    assert.match(text, /No ordering gets past t=15, where op #5 \(client 2\) read → 3 \[13, 15\] returns/);
    assert.match(text, /op #5 \(client 2\) read → 3 \[13, 15\]: impossible in state 4/);
    assert.match(text, /op #3 \(client 1\) write 4 \[10, 12\]/);
    assert.doesNotMatch(text, /op #4/);
  });

  void it('includes concurrent operations in the window', () => {
    // The read overlaps a write of 4 and a write of 5; the write of 5 is still pending at
    // the read's return, so both are in the window.
    const concurrent = check(registerModel, [write(0, 0, 1, 1), write(1, 2, 8, 4), write(3, 3, 10, 5), read(2, 4, 6, 2)]);
    const a = concurrent.anomaly!;
    assert.deepEqual(a.window.map((i) => a.historyIds[i]).sort(), [1, 2, 3]);
    assert.equal(a.historyIds[a.blockedOpIndex], 3);
  });

  void it('does not stretch the window back to an early indeterminate operation', () => {
    const early = check(registerModel, [write(9, 0, LOST, 7), write(0, 10, 11, 1), write(1, 12, 13, 2), read(2, 14, 15, 1)]);
    const a = early.anomaly!;
    assert.equal(a.windowStart, 14);
    assert.deepEqual(a.window.map((i) => a.historyIds[i]), [0, 3]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'lincheck-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('writes a self-contained HTML timeline of the window', () => {
    const path = join(dir, 'nested', 'timeline.html');
    writeTimelineHtml(path, registerModel, anomaly, 'stale <read>');
    const html = readFileSync(path, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg /);
    assert.match(html, /stale &#60;read&#62;/);
    assert.match(html, /client 2/);
    assert.match(html, /every ordering fails here \(t=15\)/);
    assert.doesNotMatch(html, /<script|src=|href=/);
  });
});
