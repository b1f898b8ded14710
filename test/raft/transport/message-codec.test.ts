import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeError } from '../../../src/raft/codec/binary-codec.js';
import { EntryType, MessageType, type Entry, type Message } from '../../../src/raft/core/index.js';
import {
  decodeMessage,
  decodeMessageBatch,
  encodeMessage,
  encodeMessageBatch,
  messageEncodedBytes,
} from '../../../src/raft/transport/message-codec.js';
import { Prng } from '../../storage/helpers.js';

const MESSAGE_TYPES = Object.values(MessageType);
const CONTEXT_ALPHABET = ['a', 'Z', '0', '-', 'é', 'ß', '漢', '字', '🙂', '𝄞', ' ', '\u0000', '\uFEFF'];

function bigInt(p: Prng): number {
  switch (p.int(5)) {
    case 0:
      return 0;
    case 1:
      return p.int(128);
    case 2:
      return p.int(1 << 20);
    case 3:
      return Number.MAX_SAFE_INTEGER - p.int(3);
    default:
      return Math.floor(p.next() * 2 ** 40);
  }
}

function randomMessage(p: Prng): Message {
  const entries: Entry[] = Array.from({ length: p.int(4) === 0 ? p.int(40) : 0 }, () => ({
    term: bigInt(p),
    index: bigInt(p),
    type: p.int(2) === 0 ? EntryType.Normal : EntryType.ConfChange,
    data: p.bytes(p.int(3) === 0 ? p.int(2_000) : p.int(20)),
  }));
  const context = Array.from({ length: p.int(3) === 0 ? p.int(30) : 0 }, () => CONTEXT_ALPHABET[p.int(CONTEXT_ALPHABET.length)]).join('');
  return {
    type: MESSAGE_TYPES[p.int(MESSAGE_TYPES.length)],
    from: bigInt(p),
    to: bigInt(p),
    term: bigInt(p),
    logTerm: bigInt(p),
    index: bigInt(p),
    entries,
    commit: bigInt(p),
    reject: p.int(2) === 0,
    rejectHint: bigInt(p),
    snapshot:
      p.int(4) === 0
        ? {
            index: bigInt(p),
            term: bigInt(p),
            conf: {
              voters: Array.from({ length: p.int(6) }, () => bigInt(p)),
              learners: Array.from({ length: p.int(3) }, () => bigInt(p)),
            },
          }
        : null,
    context,
  };
}

/** Entry data as plain byte arrays, so Buffer and Uint8Array views compare equal. */
function normalize(m: Message): unknown {
  return { ...m, entries: m.entries.map((e) => ({ ...e, data: [...e.data] })) };
}

function heartbeat(): Message {
  return {
    type: MessageType.Heartbeat,
    from: 1,
    to: 2,
    term: 7,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 1_234,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: '',
  };
}

/** Every prefix length of a small encoding; 300 random ones and the last 50 of a large one. */
function cutsOf(length: number, p: Prng): number[] {
  if (length <= 2_000) return Array.from({ length }, (_, n) => n);
  return [...Array.from({ length: 300 }, () => p.int(length)), ...Array.from({ length: 50 }, (_, k) => length - 1 - k)];
}

function isDecodeError(err: unknown): boolean {
  return err instanceof DecodeError;
}

void describe('message codec', () => {
  void test('random messages round-trip, and the computed size is exact (2000 messages, seeded)', () => {
    const p = new Prng(42);
    for (let i = 0; i < 2_000; i++) {
      const m = randomMessage(p);
      const bytes = encodeMessage(m);
      assert.equal(bytes.length, messageEncodedBytes(m), `message ${i}: size`);
      assert.deepEqual(normalize(decodeMessage(bytes)), normalize(m), `message ${i}`);
    }
  });

  void test('batches round-trip', () => {
    const p = new Prng(7);
    for (let i = 0; i < 200; i++) {
      const batch = Array.from({ length: p.int(20) }, () => randomMessage(p));
      const decoded = decodeMessageBatch(encodeMessageBatch(batch));
      assert.deepEqual(decoded.map(normalize), batch.map(normalize));
    }
  });

  void test('a heartbeat is a handful of bytes', () => {
    assert.ok(encodeMessage(heartbeat()).length <= 12, `${encodeMessage(heartbeat()).length} bytes`);
  });

  void test('every truncation of a valid encoding is a DecodeError', () => {
    const p = new Prng(3);
    for (let i = 0; i < 60; i++) {
      const bytes = encodeMessage(randomMessage(p));
      for (const n of cutsOf(bytes.length, p)) {
        assert.throws(() => decodeMessage(bytes.subarray(0, n)), isDecodeError, `message ${i} cut at ${n} of ${bytes.length}`);
      }
      const batch = encodeMessageBatch([randomMessage(p), randomMessage(p)]);
      for (const n of cutsOf(batch.length, p)) {
        assert.throws(() => decodeMessageBatch(batch.subarray(0, n)), isDecodeError, `batch ${i} cut at ${n}`);
      }
    }
  });

  void test('a corrupted buffer is either refused or decodes to the message it really encodes (never garbage)', () => {
    const p = new Prng(11);
    let refused = 0;
    let accepted = 0;
    for (let i = 0; i < 3_000; i++) {
      const bytes = Buffer.from(encodeMessage(randomMessage(p)));
      const flips = 1 + p.int(3);
      for (let f = 0; f < flips; f++) bytes[p.int(bytes.length)] = p.int(256);
      if (p.int(4) === 0) bytes[p.int(bytes.length)] ^= 0x80; // continuation bits
      let decoded: Message;
      try {
        decoded = decodeMessage(bytes);
      } catch (err) {
        assert.ok(err instanceof DecodeError, `corruption ${i}: ${String(err)}`);
        refused++;
        continue;
      }
      accepted++;
      // Accepted only if these bytes are the one encoding of a valid message.
      assert.deepEqual(encodeMessage(decoded), bytes, `corruption ${i}: accepted bytes re-encode differently`);
    }
    assert.ok(refused > 500 && accepted > 100, `refused ${refused}, accepted ${accepted}`);
  });

  void test('specific malformations are refused with a DecodeError', () => {
    const valid = encodeMessage({ ...heartbeat(), context: 'ctx', entries: [{ term: 1, index: 2, type: EntryType.Normal, data: Buffer.from('x') }] });
    const cases: [string, Buffer][] = [
      ['empty input', Buffer.alloc(0)],
      ['unknown message type 0', Buffer.concat([Buffer.from([0]), valid.subarray(1)])],
      ['unknown message type 99', Buffer.concat([Buffer.from([99]), valid.subarray(1)])],
      ['unknown flag bits', Buffer.concat([valid.subarray(0, 1), Buffer.from([4]), valid.subarray(2)])],
      ['trailing bytes', Buffer.concat([valid, Buffer.from([0])])],
      // type, flags, then "from" as a 9-byte varint
      ['overlong varint', Buffer.from([MessageType.App, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
      // 2^53 as a varint: 8 bytes, too big for a safe integer
      ['unsafe integer', Buffer.from([MessageType.App, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10])],
      ['non-canonical varint', Buffer.from([MessageType.App, 0, 0x81, 0x00])],
    ];
    // An entry count of 2^40 with nothing behind it must not allocate: refused before the loop.
    const hugeCount = Buffer.from([MessageType.App, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    cases.push(['huge entry count', hugeCount]);
    const badEntryType = Buffer.from(valid);
    const entryTypeOffset = valid.length - 3; // ... type, dataLength=1, 'x'
    badEntryType[entryTypeOffset] = 7;
    cases.push(['unknown entry type', badEntryType]);
    const badUtf8 = encodeMessage({ ...heartbeat(), context: 'ab' });
    badUtf8[badUtf8.length - 3] = 0xff; // the context's first byte
    cases.push(['invalid UTF-8 context', badUtf8]);
    for (const [name, bytes] of cases) {
      assert.throws(() => decodeMessage(bytes), isDecodeError, name);
    }
    assert.throws(() => decodeMessageBatch(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10])), isDecodeError, 'huge batch count');
  });

  void test('decoded entry data are views of the input (no copy)', () => {
    const bytes = encodeMessage({ ...heartbeat(), type: MessageType.App, entries: [{ term: 1, index: 1, type: EntryType.Normal, data: Buffer.from('view') }] });
    const decoded = decodeMessage(bytes);
    assert.equal(decoded.entries[0].data.buffer, bytes.buffer);
    assert.equal(decoded.to, 2);
  });
});
