import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import {
  RECORD_HEADER_BYTES,
  decodeRecordAt,
  encodeRecord,
  recordChecksum,
} from '../../src/storage/record-codec.js';
import { AssertionError } from '../../src/util/assert.js';

// node:test owns and awaits the suite's promise; `void` says so to the floating-promise rule.
void describe('record codec', () => {
  void test('the checksum covers the type byte then the payload', () => {
    const payload = Buffer.from('hello');
    assert.equal(recordChecksum(7, payload), zlib.crc32(Buffer.concat([Buffer.of(7), payload])));
  });

  void test('round-trips records, including an empty payload', () => {
    const data = Buffer.concat([encodeRecord(1, Buffer.from('abc')), encodeRecord(255, Buffer.alloc(0))]);
    const first = decodeRecordAt(data, 0, 1024);
    assert.ok(first.ok);
    assert.equal(first.type, 1);
    assert.equal(first.payload.toString(), 'abc');
    assert.equal(first.nextOffset, RECORD_HEADER_BYTES + 3);
    const second = decodeRecordAt(data, first.nextOffset, 1024);
    assert.ok(second.ok);
    assert.equal(second.type, 255);
    assert.equal(second.payload.length, 0);
    assert.equal(second.nextOffset, data.length);
  });

  void test('classifies what is not a whole valid record', () => {
    const record = encodeRecord(3, Buffer.from('payload'));
    const cases: [string, Buffer, string][] = [
      ['zero-filled tail', Buffer.alloc(40), 'zero-filled'],
      ['partial header', record.subarray(0, 5), 'partial-header'],
      ['partial payload', record.subarray(0, record.length - 1), 'partial-payload'],
      ['type 0', Buffer.from(record).fill(0, 4, 5), 'bad-type'],
      ['huge length', Buffer.from(record).fill(0xff, 0, 4), 'too-large'],
      ['flipped payload byte', Buffer.from(record).fill(0x41, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + 1), 'bad-checksum'],
      ['flipped checksum byte', Buffer.from(record).fill(0, 5, 6), 'bad-checksum'],
    ];
    for (const [what, data, reason] of cases) {
      const decoded = decodeRecordAt(data, 0, 1024);
      assert.equal(decoded.ok, false, what);
      if (!decoded.ok) assert.equal(decoded.reason, reason, what);
    }
  });

  void test('refuses type 0 and types above 255 when encoding', () => {
    assert.throws(() => encodeRecord(0, Buffer.alloc(1)), AssertionError);
    assert.throws(() => encodeRecord(256, Buffer.alloc(1)), AssertionError);
  });
});
