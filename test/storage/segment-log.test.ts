import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, mock, test } from 'node:test';
import type { DiskSpaceReporter } from '../../src/storage/disk-space.js';
import {
  DiskFullError,
  FsyncFailedError,
  SegmentCorruptError,
  StoreClosedError,
  StoreFailedError,
  StoreIoError,
  StoreLimitError,
} from '../../src/storage/errors.js';
import { RECORD_HEADER_BYTES } from '../../src/storage/record-codec.js';
import { segmentPath } from '../../src/storage/segment-files.js';
import { SegmentLog, type LogRecord, type ScannedRecord, type SegmentLogOptions } from '../../src/storage/segment-log.js';
import { Prng, RecordingLogger, tempDirsRemovedAfter } from './helpers.js';

const tempDir = tempDirsRemovedAfter();

interface Opened {
  readonly log: SegmentLog;
  readonly records: ScannedRecord[];
  readonly logger: RecordingLogger;
}

async function openLog(dir: string, options: Partial<SegmentLogOptions> = {}): Promise<Opened> {
  const logger = new RecordingLogger();
  const records: ScannedRecord[] = [];
  const log = await SegmentLog.open(dir, { logger, ...options }, (record) => records.push(record));
  return { log, records, logger };
}

function randomRecord(prng: Prng, maxPayloadBytes: number): LogRecord {
  return { type: 1 + prng.int(255), payload: prng.bytes(prng.int(maxPayloadBytes + 1)) };
}

function simplify(records: readonly { type: number; payload: Uint8Array }[]): string[] {
  return records.map((record) => `${record.type}:${Buffer.from(record.payload).toString('hex')}`);
}

const TEST_TIMEOUT_MS = 60_000;

// node:test owns and awaits the suite's promise; `void` says so to the floating-promise rule.
void describe('SegmentLog', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('reads back what was appended and synced, in order, with the segment of each record', async () => {
    const dir = tempDir('seglog-basic');
    const prng = new Prng(1);
    const { log } = await openLog(dir);
    assert.equal(log.currentSegment, 1);
    const written: LogRecord[] = [];
    for (let group = 0; group < 10; group++) {
      const records = Array.from({ length: 1 + prng.int(20) }, () => randomRecord(prng, 200));
      assert.equal(log.append(records), 1);
      written.push(...records);
      await log.sync();
    }
    await log.close();
    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(simplify(records), simplify(written));
    assert.ok(records.every((record) => record.segment === 1));
    assert.equal(reopened.openReport.tailCut, null);
    assert.equal(reopened.openReport.recordCount, written.length);
    await reopened.close();
  });

  void test('group commit: one fdatasync for everything appended since the last sync', async () => {
    const { log } = await openLog(tempDir('seglog-group'));
    const fdatasync = mock.method(fs, 'fdatasync');
    try {
      for (let i = 0; i < 100; i++) log.append([{ type: 1, payload: Buffer.from(`record ${i}`) }]);
      await log.sync();
      assert.equal(fdatasync.mock.callCount(), 1);
      await log.sync(); // nothing pending: no I/O
      assert.equal(fdatasync.mock.callCount(), 1);
    } finally {
      fdatasync.mock.restore();
    }
    await log.close();
  });

  void test('syncs run in call order; appends made during a sync go to the next group', async () => {
    const dir = tempDir('seglog-overlap');
    const { log } = await openLog(dir);
    const fdatasync = mock.method(fs, 'fdatasync');
    try {
      log.append([{ type: 1, payload: Buffer.from('r1') }]);
      const first = log.sync();
      await new Promise((resolve) => setImmediate(resolve)); // the first sync is now on the disk
      log.append([{ type: 1, payload: Buffer.from('r2') }]);
      const second = log.sync();
      const third = log.sync(); // nothing appended after the second: no I/O of its own
      const order: string[] = [];
      await Promise.all([first.then(() => order.push('1')), second.then(() => order.push('2')), third.then(() => order.push('3'))]);
      assert.deepEqual(order, ['1', '2', '3']);
      assert.equal(fdatasync.mock.callCount(), 2);
    } finally {
      fdatasync.mock.restore();
    }
    await log.close();
    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(records.map((record) => record.payload.toString()), ['r1', 'r2']);
    await reopened.close();
  });

  void test('an append made while a sync fills and rotates the segment goes to the next segment', async () => {
    const dir = tempDir('seglog-rotate-overlap');
    const { log } = await openLog(dir, { segmentSizeBytes: 100 });
    assert.equal(log.append([{ type: 1, payload: Buffer.alloc(200, 1) }]), 1);
    const rotating = log.sync();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(log.append([{ type: 2, payload: Buffer.from('next') }]), 2);
    await rotating;
    await log.sync();
    await log.close();
    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(records.map((record) => [record.segment, record.type]), [[1, 1], [2, 2]]);
    await reopened.close();
  });

  void test('close waits for a sync in flight, and what it synced is durable', async () => {
    const dir = tempDir('seglog-close-inflight');
    const { log } = await openLog(dir);
    log.append([{ type: 1, payload: Buffer.from('in flight at close') }]);
    const syncing = log.sync();
    const closing = log.close();
    await Promise.all([syncing, closing]);
    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(records.map((record) => record.payload.toString()), ['in flight at close']);
    await reopened.close();
  });

  void test('append copies payloads: changing a buffer after append does not change the record', async () => {
    const dir = tempDir('seglog-copy');
    const { log } = await openLog(dir);
    const payload = Buffer.from('original');
    log.append([{ type: 9, payload }]);
    payload.write('CHANGED!');
    await log.sync();
    await log.close();
    const { log: reopened, records } = await openLog(dir);
    assert.equal(records[0].payload.toString(), 'original');
    await reopened.close();
  });

  void test('a cut anywhere in the last segment keeps exactly the whole records before it, and appends work after', async () => {
    const dir = tempDir('seglog-cut');
    const prng = new Prng(0x5eed);
    const { log } = await openLog(dir);
    const firstSegment: LogRecord[] = Array.from({ length: 5 }, () => randomRecord(prng, 100));
    log.append(firstSegment);
    assert.equal(await log.rotate(), 2);
    const lastSegment: LogRecord[] = [];
    for (let group = 0; group < 12; group++) {
      const records = Array.from({ length: 1 + prng.int(8) }, () => randomRecord(prng, 300));
      log.append(records);
      lastSegment.push(...records);
      await log.sync();
    }
    await log.close();

    const lastPath = segmentPath(dir, 2);
    const original = fs.readFileSync(lastPath);
    // Record boundaries in the last segment: boundaries[k] is where record k starts.
    const boundaries = [0];
    for (const record of lastSegment) boundaries.push(boundaries[boundaries.length - 1] + RECORD_HEADER_BYTES + record.payload.length);
    assert.equal(boundaries[boundaries.length - 1], original.length);

    // Offsets: every boundary, inside every header (1, 4, 5, 8 bytes in), inside payloads,
    // and random ones.
    const offsets = new Set<number>(boundaries);
    for (let k = 0; k < lastSegment.length; k++) {
      for (const inHeader of [1, 4, 5, 8]) offsets.add(boundaries[k] + inHeader);
      const payloadBytes = lastSegment[k].payload.length;
      if (payloadBytes > 1) offsets.add(boundaries[k] + RECORD_HEADER_BYTES + 1 + prng.int(payloadBytes - 1));
    }
    for (let i = 0; i < 50; i++) offsets.add(prng.int(original.length + 1));
    assert.ok(offsets.size >= 200, `only ${offsets.size} offsets`);

    const wholeBefore = (cut: number): number => boundaries.filter((b) => b <= cut).length - 1;
    let checkedAppends = 0;
    for (const cut of [...offsets].sort((a, b) => a - b)) {
      // Half of the cuts also leave the file at its old length, zero-filled past the cut (an
      // extended file whose data never reached the disk).
      const zeroFill = prng.int(2) === 1 && cut < original.length;
      const damaged = zeroFill ? Buffer.concat([original.subarray(0, cut), Buffer.alloc(original.length - cut)]) : original.subarray(0, cut);
      fs.writeFileSync(lastPath, damaged);
      const kept = wholeBefore(cut);
      const { log: reopened, records } = await openLog(dir);
      const context = `cut at ${cut} (zeroFill ${zeroFill})`;
      assert.deepEqual(simplify(records), simplify([...firstSegment, ...lastSegment.slice(0, kept)]), context);
      assert.deepEqual(records.map((record) => record.segment), [...firstSegment.map(() => 1), ...lastSegment.slice(0, kept).map(() => 2)]);
      const tailCut = reopened.openReport.tailCut;
      if (damaged.length === boundaries[kept]) {
        assert.equal(tailCut, null, context);
      } else if (zeroFill && cut === boundaries[kept]) {
        // Zeros from a record boundary on: free space, kept for the next writes.
        assert.equal(tailCut, null, context);
        assert.equal(reopened.openReport.zeroTailBytes, damaged.length - boundaries[kept], context);
        assert.equal(fs.statSync(lastPath).size, damaged.length, `${context}: zeros kept`);
      } else {
        assert.ok(tailCut !== null, context);
        assert.equal(tailCut.segment, 2);
        assert.equal(tailCut.offsetBytes, boundaries[kept], context);
        assert.equal(tailCut.bytesCut, damaged.length - boundaries[kept], context);
        assert.equal(fs.statSync(lastPath).size, boundaries[kept], `${context}: file truncated`);
      }
      // Appending after the reopen lands right after the kept records.
      if (checkedAppends++ % 3 === 0) {
        const extra = { type: 42, payload: Buffer.from(`after cut ${cut}`) };
        assert.equal(reopened.append([extra]), 2);
        await reopened.sync();
        await reopened.close();
        const { log: again, records: again_records } = await openLog(dir);
        assert.deepEqual(simplify(again_records), simplify([...firstSegment, ...lastSegment.slice(0, kept), extra]), `${context}: append after`);
        assert.equal(again.openReport.tailCut, null);
        await again.close();
      } else {
        await reopened.close();
      }
    }
  });

  void test('a garbage tail is cut and reported; a zero-filled one is kept as free space', async () => {
    const dir = tempDir('seglog-tail');
    const prng = new Prng(7);
    const { log } = await openLog(dir);
    const records = Array.from({ length: 20 }, () => randomRecord(prng, 64));
    log.append(records);
    await log.sync();
    await log.close();
    const path = segmentPath(dir, 1);
    const original = fs.readFileSync(path);
    for (const zeros of [4096, 3]) {
      fs.writeFileSync(path, Buffer.concat([original, Buffer.alloc(zeros)]));
      const { log: reopened, records: read, logger } = await openLog(dir);
      assert.deepEqual(simplify(read), simplify(records));
      assert.equal(reopened.openReport.tailCut, null);
      assert.equal(reopened.openReport.zeroTailBytes, zeros);
      assert.equal(fs.statSync(path).size, original.length + zeros, 'the zeros stay');
      assert.equal(logger.at('warn').length, 0);
      // Appends overwrite the zeros, and a later open reads them and the zeros after them.
      const more = [randomRecord(prng, 64)];
      reopened.append(more);
      await reopened.sync();
      await reopened.close();
      const { log: again, records: readAgain } = await openLog(dir);
      assert.deepEqual(simplify(readAgain), simplify([...records, ...more]));
      await again.close();
    }
    for (const [tail, reason] of [
      [Buffer.concat([Buffer.alloc(100), Buffer.from([1])]), 'bad-type'],
      [Buffer.from([0x05, 0, 0, 0, 0x01, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5]), 'bad-checksum'],
      [Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x01, 0, 0, 0, 0]), 'too-large'],
    ] as const) {
      fs.writeFileSync(path, Buffer.concat([original, tail]));
      const { log: reopened, records: read, logger } = await openLog(dir);
      assert.deepEqual(simplify(read), simplify(records));
      assert.deepEqual(reopened.openReport.tailCut, { segment: 1, offsetBytes: original.length, bytesCut: tail.length, reason });
      assert.ok(logger.at('warn').some((entry) => /cut a torn or corrupt tail/.test(entry.msg)));
      await reopened.close();
    }
  });

  void test('a flipped byte in a segment that is not the last is a SegmentCorruptError, and nothing is cut', async () => {
    const dir = tempDir('seglog-corrupt');
    const prng = new Prng(99);
    const { log } = await openLog(dir);
    log.append(Array.from({ length: 30 }, () => randomRecord(prng, 100)));
    await log.rotate();
    log.append(Array.from({ length: 5 }, () => randomRecord(prng, 100)));
    await log.sync();
    await log.close();
    const path = segmentPath(dir, 1);
    const original = fs.readFileSync(path);
    for (let trial = 0; trial < 20; trial++) {
      const damaged = Buffer.from(original);
      const at = prng.int(damaged.length);
      damaged[at] = damaged[at] ^ (1 << prng.int(8));
      fs.writeFileSync(path, damaged);
      await assert.rejects(openLog(dir), (err) => {
        assert.ok(err instanceof SegmentCorruptError, String(err));
        assert.equal(err.file, path);
        assert.ok(err.offsetBytes <= at, `reported ${err.offsetBytes}, flipped ${at}`);
        return true;
      });
      assert.deepEqual(fs.readFileSync(path), damaged, 'a non-last segment is never modified');
    }
    fs.writeFileSync(path, original);
    const { log: reopened } = await openLog(dir);
    await reopened.close();
  });

  void test('rotates past segmentSizeBytes, rotates on demand, deletes old segments oldest first', async () => {
    const dir = tempDir('seglog-rotate');
    const prng = new Prng(3);
    const { log } = await openLog(dir, { segmentSizeBytes: 1024 });
    const segmentOf: number[] = [];
    const written: LogRecord[] = [];
    for (let group = 0; group < 20; group++) {
      const records = Array.from({ length: 5 }, () => ({ type: 2, payload: prng.bytes(100) }));
      const segment = log.append(records);
      for (const _record of records) segmentOf.push(segment);
      written.push(...records);
      await log.sync();
    }
    const segments = log.segments();
    assert.ok(segments.length >= 9, `${segments.length} segments`);
    assert.deepEqual(segments.map((info) => info.segment), segments.map((_, i) => i + 1));
    for (const info of segments.slice(0, -1)) assert.ok(info.sizeBytes >= 1024);
    // On demand: the current segment has records, so a new one starts; an empty one is kept.
    const current = log.currentSegment;
    log.append([{ type: 3, payload: Buffer.from('x') }]);
    written.push({ type: 3, payload: Buffer.from('x') });
    segmentOf.push(current);
    const rotated = await log.rotate();
    assert.equal(rotated, current + 1);
    assert.equal(await log.rotate(), rotated);

    assert.deepEqual(await log.deleteSegmentsBefore(3), [1, 2]);
    assert.ok(!fs.existsSync(segmentPath(dir, 1)));
    assert.deepEqual(await log.deleteSegmentsBefore(Number.MAX_SAFE_INTEGER), Array.from({ length: rotated - 3 }, (_, i) => i + 3));
    assert.deepEqual(log.segments().map((info) => info.segment), [rotated], 'the current segment is never deleted');
    await log.close();

    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(records, []);
    assert.equal(reopened.currentSegment, rotated);
    await reopened.close();

    // The segments reported at open match what append returned.
    const dir2 = tempDir('seglog-rotate-2');
    const { log: second } = await openLog(dir2, { segmentSizeBytes: 1024 });
    const returned: number[] = [];
    for (let group = 0; group < 12; group++) {
      const segment = second.append(written.slice(group * 5, group * 5 + 5));
      for (let i = 0; i < Math.min(5, written.length - group * 5); i++) returned.push(segment);
      await second.sync();
    }
    await second.close();
    const { log: third, records: read } = await openLog(dir2);
    assert.deepEqual(read.map((record) => record.segment), returned);
    assert.deepEqual(third.openReport.segments.map((info) => info.recordCount).reduce((a, b) => a + b), returned.length);
    await third.close();
  });

  void test('a missing segment in the middle is a SegmentCorruptError', async () => {
    const dir = tempDir('seglog-gap');
    const { log } = await openLog(dir);
    for (let i = 0; i < 3; i++) {
      log.append([{ type: 1, payload: Buffer.from(`segment ${i + 1}`) }]);
      await log.rotate();
    }
    await log.close();
    fs.unlinkSync(segmentPath(dir, 2));
    await assert.rejects(openLog(dir), (err) => err instanceof SegmentCorruptError && /missing/.test(err.message));
  });

  void test('bounded buffers: appends past maxPendingBytes or maxRecordBytes are refused whole', async () => {
    const { log } = await openLog(tempDir('seglog-limits'), { maxPendingBytes: 1000, maxRecordBytes: 500 });
    log.append([{ type: 1, payload: Buffer.alloc(400) }]);
    const before = log.pendingBytes;
    assert.throws(() => log.append([{ type: 1, payload: Buffer.alloc(100) }, { type: 1, payload: Buffer.alloc(500) }]), StoreLimitError);
    assert.throws(() => log.append([{ type: 1, payload: Buffer.alloc(501) }]), StoreLimitError);
    assert.equal(log.pendingBytes, before);
    await log.sync();
    log.append([{ type: 1, payload: Buffer.alloc(500) }]);
    await log.sync();
    await log.close();
  });

  void test('close is idempotent and gated; unsynced records are dropped with a warning', async () => {
    const dir = tempDir('seglog-close');
    const { log, logger } = await openLog(dir);
    log.append([{ type: 1, payload: Buffer.from('synced') }]);
    await log.sync();
    log.append([{ type: 1, payload: Buffer.from('never synced') }]);
    const closing = log.close();
    assert.equal(log.close(), closing);
    assert.throws(() => log.append([{ type: 1, payload: Buffer.from('late') }]), StoreClosedError);
    await assert.rejects(log.sync(), StoreClosedError);
    await assert.rejects(log.rotate(), StoreClosedError);
    await assert.rejects(log.deleteSegmentsBefore(1), StoreClosedError);
    await closing;
    assert.equal(log.state, 'closed');
    assert.ok(logger.at('warn').some((entry) => /unsynced records/.test(entry.msg)));
    const { log: reopened, records } = await openLog(dir);
    assert.deepEqual(records.map((record) => record.payload.toString()), ['synced']);
    await reopened.close();
  });

  void test('a failed fdatasync is sticky until reopened', async () => {
    const dir = tempDir('seglog-fail');
    const { log } = await openLog(dir);
    log.append([{ type: 1, payload: Buffer.from('before') }]);
    await log.sync();
    const fdatasync = mock.method(fs, 'fdatasync', (_fd: number, callback: (err: Error | null) => void) => {
      setImmediate(() => callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    });
    try {
      log.append([{ type: 1, payload: Buffer.from('lost') }]);
      await assert.rejects(log.sync(), (err) => err instanceof FsyncFailedError && err instanceof StoreIoError && /EIO/.test(err.message));
    } finally {
      fdatasync.mock.restore();
    }
    assert.throws(() => log.append([{ type: 1, payload: Buffer.from('refused') }]), StoreFailedError);
    await assert.rejects(log.sync(), StoreFailedError);
    await log.close();
    const { log: reopened, records } = await openLog(dir);
    // The write itself reached the page cache before the (simulated) fdatasync failure.
    assert.deepEqual(records.map((record) => record.payload.toString()).slice(0, 1), ['before']);
    reopened.append([{ type: 1, payload: Buffer.from('after reopen') }]);
    await reopened.sync();
    await reopened.close();
  });

  void test('an fdatasync that fails for lack of space is an fsync failure too: sticky, never retried', async () => {
    const dir = tempDir('seglog-fsync-enospc');
    const { log } = await openLog(dir);
    const fdatasync = mock.method(fs, 'fdatasync', (_fd: number, callback: (err: Error | null) => void) => {
      setImmediate(() => callback(Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC' })));
    });
    try {
      log.append([{ type: 1, payload: Buffer.from('unknown') }]);
      await assert.rejects(log.sync(), FsyncFailedError);
    } finally {
      fdatasync.mock.restore();
    }
    await assert.rejects(log.sync(), StoreFailedError);
    await log.close();
  });

  void test('a write refused for lack of space keeps its records; the next sync writes them, in order, over the partial write', async () => {
    const dir = tempDir('seglog-enospc');
    const reports: string[] = [];
    const diskSpace: DiskSpaceReporter = { full: (store) => reports.push(`full ${store}`), available: (store) => reports.push(`available ${store}`) };
    const { log, logger } = await openLog(dir, { diskSpace, name: 'wal' });
    log.append([{ type: 1, payload: Buffer.from('before') }]);
    await log.sync();
    const realWriteSync = fs.writeSync.bind(fs) as (fd: number, buffer: Buffer, offset: number, length: number, position: number) => number;
    let calls = 0;
    // As a nearly full file system does: the first 10 bytes go in, then ENOSPC.
    const writeSync = mock.method(fs, 'writeSync', (fd: number, buffer: Buffer, offset: number, length: number, position: number) => {
      if (calls++ === 0) return realWriteSync(fd, buffer, offset, Math.min(10, length), position);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      log.append([{ type: 2, payload: Buffer.from('refused-1') }, { type: 2, payload: Buffer.from('refused-2') }]);
      await assert.rejects(log.sync(), (err) => err instanceof DiskFullError && err.store === 'wal' && err.errno === 'ENOSPC');
      assert.equal(log.pendingRecordCount, 2, 'the refused records are kept');
      log.append([{ type: 3, payload: Buffer.from('later') }]);
      await assert.rejects(log.sync(), DiskFullError);
      assert.equal(log.pendingRecordCount, 3);
    } finally {
      writeSync.mock.restore();
    }
    assert.deepEqual(reports, ['full wal'], 'one report per episode, not one per retry');
    await log.sync();
    assert.deepEqual(reports, ['full wal', 'available wal']);
    assert.equal(logger.at('warn').filter((e) => /no space/.test(e.msg)).length, 1);
    log.append([{ type: 4, payload: Buffer.from('after') }]);
    await log.sync();
    await log.close();
    const { log: reopened, records, logger: reopenLogger } = await openLog(dir);
    assert.deepEqual(simplify(records), simplify([
      { type: 1, payload: Buffer.from('before') },
      { type: 2, payload: Buffer.from('refused-1') },
      { type: 2, payload: Buffer.from('refused-2') },
      { type: 3, payload: Buffer.from('later') },
      { type: 4, payload: Buffer.from('after') },
    ]));
    assert.equal(reopenLogger.at('warn').length, 0, 'no torn tail: the retry wrote over the partial bytes');
    await reopened.close();
  });

  void test('a segment that cannot be created for lack of space is created by the next sync; what was synced stays synced', async () => {
    const dir = tempDir('seglog-enospc-create');
    const { log } = await openLog(dir, { segmentSizeBytes: 64 });
    const open = mock.method(fs, 'open', (_path: string, _flags: string, callback: (err: Error | null, fd?: number) => void) => {
      setImmediate(() => callback(Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' })));
    });
    try {
      // Past segmentSizeBytes: the sync writes and fdatasyncs segment 1, then cannot start segment 2.
      log.append([{ type: 1, payload: Buffer.alloc(80, 1) }]);
      await assert.rejects(log.sync(), DiskFullError);
      assert.equal(log.segments().length, 1);
      assert.equal(log.currentSegment, 2, 'appends already go to the segment to come');
      log.append([{ type: 2, payload: Buffer.from('waits') }]);
      await assert.rejects(log.sync(), DiskFullError);
    } finally {
      open.mock.restore();
    }
    await log.sync();
    assert.deepEqual(log.segments().map((info) => [info.segment, info.recordCount]), [[1, 1], [2, 1]]);
    await log.close();
    const { log: reopened, records } = await openLog(dir, { segmentSizeBytes: 64 });
    assert.deepEqual(records.map((record) => [record.segment, record.type]), [[1, 1], [2, 2]]);
    await reopened.close();
  });
});
