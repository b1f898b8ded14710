import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { segmentPath, spareReadyPath, spareTmpPath } from '../../src/storage/segment-files.js';
import { SegmentLog, type LogRecord, type ScannedRecord, type SegmentLogOptions } from '../../src/storage/segment-log.js';
import { SegmentSpare } from '../../src/storage/segment-spare.js';
import { Prng, RecordingLogger, sleep, tempDirsRemovedAfter } from './helpers.js';

const tempDir = tempDirsRemovedAfter();
const TEST_TIMEOUT_MS = 60_000;
const WAIT_MS = 20_000;
/** What a log writes into a segment that was not prepared before it prepares a spare. */
const FIRST_SPARE_DUE_BYTES = 64 * 1024;
/** The spare after a segment that was not prepared. */
const FIRST_SPARE_BYTES = 4 * 1024 * 1024;

async function openLog(dir: string, options: Partial<SegmentLogOptions> = {}) {
  const logger = new RecordingLogger();
  const records: ScannedRecord[] = [];
  const log = await SegmentLog.open(dir, { logger, preallocate: true, ...options }, (record) => records.push(record));
  return { log, records, logger };
}

function simplify(records: readonly { type: number; payload: Uint8Array }[]): string[] {
  return records.map((record) => `${record.type}:${Buffer.from(record.payload).toString('hex')}`);
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS} ms`);
    await sleep(5);
  }
}

/** Appends and syncs `bytes` of records in groups of about 16 KiB; returns what it wrote. */
async function write(log: SegmentLog, prng: Prng, bytes: number): Promise<LogRecord[]> {
  const written: LogRecord[] = [];
  for (let done = 0; done < bytes; ) {
    const records = Array.from({ length: 16 }, () => ({ type: 1 + prng.int(255), payload: prng.bytes(1000) }));
    log.append(records);
    await log.sync();
    written.push(...records);
    done += 16 * 1009;
  }
  return written;
}

void describe('SegmentLog with preallocate', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('after 64 KiB the log prepares a small next segment, moves to it, cuts the one it left, and prepares segment-sized ones', async () => {
    const dir = tempDir('prealloc-move');
    const prng = new Prng(11);
    const segmentSizeBytes = 8 * 1024 * 1024;
    const { log } = await openLog(dir, { segmentSizeBytes });
    const written = await write(log, prng, FIRST_SPARE_DUE_BYTES / 2);
    await sleep(50);
    assert.ok(!fs.existsSync(spareReadyPath(dir)) && !fs.existsSync(spareTmpPath(dir)), 'no spare before 64 KiB');
    written.push(...(await write(log, prng, FIRST_SPARE_DUE_BYTES / 2 + 20_000)));
    await waitFor('spare ready', () => log.spareReady || log.preparedSegmentCount > 0);
    // The next sync that writes moves to the spare (segment 1 was not prepared).
    written.push(...(await write(log, prng, 1)));
    assert.equal(log.currentSegment, 2);
    assert.equal(log.preparedSegmentCount, 1);
    written.push(...(await write(log, prng, 1)));
    assert.equal(fs.statSync(segmentPath(dir, 1)).size, log.segments()[0].sizeBytes, 'segment 1 holds only its records');
    assert.equal(fs.statSync(segmentPath(dir, 2)).size, FIRST_SPARE_BYTES, 'segment 2 was prepared, small');
    await sleep(50);
    assert.ok(!fs.existsSync(spareReadyPath(dir)) && !fs.existsSync(spareTmpPath(dir)), 'no second spare before half the zeros are used');
    // Past half of segment 2's zeros, a segment-sized spare.
    written.push(...(await write(log, prng, FIRST_SPARE_BYTES / 2 - log.segments()[1].sizeBytes + 20_000)));
    await waitFor('second spare ready', () => fs.existsSync(spareReadyPath(dir)));
    assert.equal(fs.statSync(spareReadyPath(dir)).size, segmentSizeBytes);
    const secondBytes = log.segments()[1].sizeBytes;
    await log.close();

    const { log: reopened, records, logger } = await openLog(dir, { segmentSizeBytes });
    assert.deepEqual(simplify(records), simplify(written));
    assert.equal(reopened.openReport.tailCut, null);
    assert.equal(reopened.openReport.zeroTailBytes, FIRST_SPARE_BYTES - secondBytes);
    assert.equal(logger.at('warn').length, 0);
    // The spare kept across the restart becomes segment 3 once a write would grow segment 2.
    const more = await write(reopened, prng, FIRST_SPARE_BYTES - secondBytes + 20_000);
    assert.equal(reopened.currentSegment, 3);
    assert.equal(fs.statSync(segmentPath(dir, 2)).size, reopened.segments()[1].sizeBytes, 'segment 2 cut to its records');
    assert.equal(fs.statSync(segmentPath(dir, 3)).size, segmentSizeBytes);
    await reopened.close();
    const { log: third, records: all } = await openLog(dir, { segmentSizeBytes });
    assert.deepEqual(simplify(all), simplify([...written, ...more]));
    await third.close();
  });

  void test('many small prepared segments: every record is read back, and only the last segment has a zero tail', async () => {
    const dir = tempDir('prealloc-many');
    const prng = new Prng(12);
    const segmentSizeBytes = 256 * 1024;
    const { log } = await openLog(dir, { segmentSizeBytes });
    const written: LogRecord[] = [];
    for (let round = 0; round < 12; round++) {
      written.push(...(await write(log, prng, 200_000)));
      await sleep(100); // time for a spare due in this round
    }
    assert.ok(log.preparedSegmentCount >= 3, `${log.preparedSegmentCount} prepared segments`);
    const segments = log.segments();
    assert.ok(segments.length >= 8, `${segments.length} segments`);
    for (const info of segments.slice(0, -1)) assert.equal(fs.statSync(segmentPath(dir, info.segment)).size, info.sizeBytes);
    assert.ok(fs.statSync(segmentPath(dir, segments.at(-1)!.segment)).size >= segmentSizeBytes, 'the last segment was prepared');
    await log.close();
    const { log: reopened, records } = await openLog(dir, { segmentSizeBytes });
    assert.deepEqual(simplify(records), simplify(written));
    assert.equal(reopened.openReport.tailCut, null);
    await reopened.close();
  });

  void test('a torn write inside the zero tail is cut, and the log goes on without a prepared segment', async () => {
    const dir = tempDir('prealloc-torn');
    const prng = new Prng(13);
    const segmentSizeBytes = 2 * 1024 * 1024;
    const { log } = await openLog(dir, { segmentSizeBytes });
    const written = await write(log, prng, segmentSizeBytes / 4 + 20_000);
    await waitFor('spare ready', () => log.spareReady || log.preparedSegmentCount > 0);
    written.push(...(await write(log, prng, 1)));
    assert.equal(log.currentSegment, 2);
    assert.equal(log.preparedSegmentCount, 1);
    const recordsBytes = log.segments()[1].sizeBytes;
    await log.close();
    // A later write reached the disk in part: some bytes past the zeros that follow the records.
    const fd = fs.openSync(segmentPath(dir, 2), 'r+');
    fs.writeSync(fd, Buffer.from([7, 7, 7, 7]), 0, 4, recordsBytes + 8192);
    fs.closeSync(fd);
    const { log: reopened, records, logger } = await openLog(dir, { segmentSizeBytes });
    assert.deepEqual(simplify(records), simplify(written));
    assert.equal(reopened.openReport.tailCut?.offsetBytes, recordsBytes);
    assert.equal(fs.statSync(segmentPath(dir, 2)).size, recordsBytes, 'cut to the records: no stale byte can follow new ones');
    assert.ok(logger.at('warn').some((entry) => /cut a torn or corrupt tail/.test(entry.msg)));
    const more = await write(reopened, prng, 100_000);
    await reopened.close();
    const { log: again, records: all } = await openLog(dir, { segmentSizeBytes });
    assert.deepEqual(simplify(all), simplify([...written, ...more]));
    await again.close();
  });

  void test('close stops a preparation under way; the next open removes its file and keeps a finished spare', async () => {
    const dir = tempDir('prealloc-close');
    const prng = new Prng(14);
    const segmentSizeBytes = 64 * 1024 * 1024;
    const { log } = await openLog(dir, { segmentSizeBytes });
    await write(log, prng, FIRST_SPARE_DUE_BYTES + 20_000);
    await waitFor('a small spare', () => log.spareReady || log.preparedSegmentCount > 0);
    await write(log, prng, FIRST_SPARE_BYTES / 2 + 20_000);
    // Twice the small one: 8 chunks, each written and synced, at most 16 MiB/s.
    await waitFor('preparation started', () => fs.existsSync(spareTmpPath(dir)));
    const startedMs = performance.now();
    await log.close();
    const closeMs = performance.now() - startedMs;
    assert.ok(!fs.existsSync(spareTmpPath(dir)) && !fs.existsSync(spareReadyPath(dir)), 'a stopped preparation leaves nothing');
    assert.ok(closeMs < 10_000, `close took ${closeMs} ms`);

    // Leftovers of a crash: a half-written spare is removed, a finished one larger than a segment too.
    fs.writeFileSync(spareTmpPath(dir), Buffer.alloc(1000));
    fs.writeFileSync(spareReadyPath(dir), Buffer.alloc(1000));
    const { log: reopened } = await openLog(dir, { segmentSizeBytes: 512 });
    assert.ok(!fs.existsSync(spareTmpPath(dir)) && !fs.existsSync(spareReadyPath(dir)));
    await reopened.close();
    fs.writeFileSync(spareReadyPath(dir), Buffer.alloc(4096));
    const { log: small } = await openLog(dir, { segmentSizeBytes: 4096 });
    assert.ok(fs.existsSync(spareReadyPath(dir)), 'a finished spare of the right size is kept');
    small.append([{ type: 1, payload: Buffer.alloc(10) }]);
    const segment = small.currentSegment;
    await small.sync();
    assert.equal(small.currentSegment, segment + 1, 'and used');
    await small.close();
  });

  void test('no spare without room, said once; the log works as without the option', async () => {
    const dir = tempDir('prealloc-room');
    const prng = new Prng(15);
    const { log, logger } = await openLog(dir, { segmentSizeBytes: 4 * 1024 * 1024, spareMinFreeBytes: Number.MAX_SAFE_INTEGER });
    const written = await write(log, prng, 3 * FIRST_SPARE_DUE_BYTES);
    await sleep(50);
    assert.ok(!fs.existsSync(spareTmpPath(dir)) && !fs.existsSync(spareReadyPath(dir)));
    assert.equal(log.currentSegment, 1);
    assert.equal(logger.entries.filter((entry) => /too little free space/.test(entry.msg)).length, 1, 'one attempt per segment');
    await log.close();
    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(simplify(records), simplify(written));
    await reopened.close();
  });

  void test('SegmentSpare refuses to move onto an existing file', async () => {
    const dir = tempDir('prealloc-exists');
    const spare = SegmentSpare.open({ dir, name: 't', maxBytes: 4096, logger: new RecordingLogger() });
    spare.prepare(4096);
    await waitFor('spare ready', () => spare.ready);
    fs.writeFileSync(segmentPath(dir, 1), 'x');
    await assert.rejects(spare.moveTo(segmentPath(dir, 1)), /exists/);
    assert.equal(fs.readFileSync(segmentPath(dir, 1), 'utf8'), 'x');
    await spare.close();
  });
});
