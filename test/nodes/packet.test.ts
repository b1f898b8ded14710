// The packet codec against the real capture (every master -> node exchange, byte for byte), the
// data-path framing (69-byte headers, read requests without Data), streaming decode at any chunk
// boundary, and malformed input: typed errors, never a crash.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeAdminTask } from '../../src/nodes/admin-task.js';
import { NodeMessageError, PacketDecodeError } from '../../src/nodes/errors.js';
import {
  decodePacket,
  encodePacket,
  ExtentTypeFlag,
  makePacket,
  Opcode,
  PACKET_HEADER_BYTES,
  PacketDecoder,
  ResultCode,
  VERSION_INFO_BYTES,
  type Packet,
} from '../../src/nodes/packet.js';
import { hexBytes, isCompleteHex, readJsonl, skipUnless, wireJson, type CapturedPacket, type MasterToNodeExchange } from './capture.js';

const MASTER_TO_NODE = 'node-wire/master-to-node-tcp.jsonl';
const CLIENT_TO_NODE = 'node-wire/client-to-node-tcp.jsonl';

/** The Data bytes the wire carried, when the capture holds them whole; null otherwise. */
function capturedData(p: CapturedPacket): Buffer | null {
  if (p.header.Size === 0) return Buffer.alloc(0);
  // Hex dumps are of the raw bytes; texts and JSON may have been rewritten (paths), so check sizes.
  if (p.dataHex !== undefined && hexBytes(p.dataHex).length === p.header.Size) return hexBytes(p.dataHex);
  if (p.dataHexHead !== undefined && isCompleteHex(p.dataHexHead) && hexBytes(p.dataHexHead).length === p.header.Size) return hexBytes(p.dataHexHead);
  const candidates = [p.dataJSON !== undefined ? Buffer.from(wireJson(p.dataJSON)) : null, p.dataText !== undefined ? Buffer.from(p.dataText) : null];
  for (const c of candidates) if (c !== null && c.length === p.header.Size) return c;
  return null;
}

function capturedArg(p: CapturedPacket): Buffer {
  if (p.header.ArgLen === 0) return Buffer.alloc(0);
  if (p.arg?.hex !== undefined) return hexBytes(p.arg.hex);
  return Buffer.from(p.arg?.text ?? '');
}

function packetOf(p: CapturedPacket, data: Buffer): Packet {
  const h = p.header;
  return makePacket({
    extentType: h.ExtentType,
    opcode: h.Opcode,
    resultCode: h.ResultCode,
    remainingFollowers: h.RemainingFollowers,
    crc: h.CRC,
    partitionId: BigInt(h.PartitionID),
    extentId: BigInt(h.ExtentID),
    extentOffset: BigInt(h.ExtentOffset),
    reqId: BigInt(h.ReqID),
    kernelOffset: BigInt(h.KernelOffset),
    verSeq: p.extraHeader !== undefined ? BigInt(p.extraHeader.VerSeq) : 0n,
    protoVersion: p.extraHeader?.ProtoVersion ?? 0,
    arg: capturedArg(p),
    data,
    size: h.Size,
  });
}

function assertSameHeader(decoded: Packet, p: CapturedPacket): void {
  const h = p.header;
  assert.equal(decoded.extentType, h.ExtentType);
  assert.equal(decoded.opcode, h.Opcode);
  assert.equal(decoded.resultCode, h.ResultCode);
  assert.equal(decoded.remainingFollowers, h.RemainingFollowers);
  assert.equal(decoded.crc, h.CRC);
  assert.equal(decoded.size, h.Size);
  assert.equal(decoded.arg.length, h.ArgLen);
  assert.equal(decoded.partitionId, BigInt(h.PartitionID));
  assert.equal(decoded.extentId, BigInt(h.ExtentID));
  assert.equal(decoded.extentOffset, BigInt(h.ExtentOffset));
  assert.equal(decoded.reqId, BigInt(h.ReqID));
  assert.equal(decoded.kernelOffset, BigInt(h.KernelOffset));
}

/** Same seed, same chunk sizes: a small deterministic PRNG (mulberry32). */
function chunkSizes(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return 1 + ((((t ^ (t >>> 14)) >>> 0) % 97) >>> 0);
  };
}

void describe('packet codec against the master -> node capture', { skip: skipUnless(MASTER_TO_NODE) }, () => {
  const exchanges = readJsonl<MasterToNodeExchange>(MASTER_TO_NODE);

  void test('the capture covers every admin opcode the master sent', () => {
    const seen = new Set(exchanges.map((e) => e.request.header.Opcode));
    const expected = [
      Opcode.CreateMetaPartition,
      Opcode.MetaNodeHeartbeat,
      Opcode.DeleteMetaPartition,
      Opcode.UpdateMetaPartition,
      Opcode.LoadMetaPartition,
      Opcode.CreateDataPartition,
      Opcode.DeleteDataPartition,
      Opcode.LoadDataPartition,
      Opcode.DataNodeHeartbeat,
    ];
    assert.deepEqual([...seen].sort((a, b) => a - b), [...expected].sort((a, b) => a - b));
    assert.equal(exchanges.length, 144);
  });

  void test('every request encodes to the captured bytes and decodes back', () => {
    for (const e of exchanges) {
      const data = Buffer.from(wireJson(e.request.dataJSON), 'utf8');
      assert.equal(data.length, e.request.header.Size, `${e.request.op} data length`);
      const bytes = encodePacket(packetOf(e.request, data));
      assert.equal(bytes.length, PACKET_HEADER_BYTES + data.length);
      assert.deepEqual(bytes.subarray(0, PACKET_HEADER_BYTES), hexBytes(e.request.headerHex), `${e.request.op} header at ${e.request.t}`);
      const head = hexBytes(e.request.dataHexHead ?? '');
      assert.deepEqual(bytes.subarray(PACKET_HEADER_BYTES, PACKET_HEADER_BYTES + head.length), head, `${e.request.op} first data bytes`);
      const decoded = decodePacket(bytes);
      assertSameHeader(decoded, e.request);
      assert.deepEqual(Buffer.from(decoded.data), data);
      // The AdminTask inside decodes, and its OpCode/PartitionID agree with the header (spec 3).
      const task = decodeAdminTask(decoded.data);
      assert.equal(task.OpCode, decoded.opcode);
      assert.equal(BigInt(task.PartitionID), decoded.partitionId);
    }
  });

  void test('every reply encodes to the captured header and decodes back', () => {
    for (const e of exchanges) {
      const data = capturedData(e.reply);
      assert.notEqual(data, null, `${e.reply.op} reply data is in the capture`);
      const bytes = encodePacket(packetOf(e.reply, data!));
      assert.deepEqual(bytes.subarray(0, PACKET_HEADER_BYTES), hexBytes(e.reply.headerHex), `${e.reply.op} reply header at ${e.reply.t}`);
      const decoded = decodePacket(bytes);
      assertSameHeader(decoded, e.reply);
      assert.equal(decoded.resultCode, ResultCode.OK);
      assert.equal(decoded.reqId, BigInt(e.request.header.ReqID), 'a reply echoes the ReqID');
    }
  });

  void test('a connection stream decodes to the same packets at any chunk boundary', () => {
    const byConn = new Map<string, Buffer[]>();
    const expected = new Map<string, bigint[]>();
    for (const e of exchanges) {
      const bytes = encodePacket(packetOf(e.request, Buffer.from(wireJson(e.request.dataJSON), 'utf8')));
      byConn.set(e.conn, [...(byConn.get(e.conn) ?? []), bytes]);
      expected.set(e.conn, [...(expected.get(e.conn) ?? []), BigInt(e.request.header.ReqID)]);
    }
    let seed = 1;
    for (const [conn, packets] of byConn) {
      const stream = Buffer.concat(packets);
      const decoder = new PacketDecoder();
      const next = chunkSizes(seed++);
      const got: bigint[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = Math.min(next(), stream.length - at);
        for (const p of decoder.push(stream.subarray(at, at + n))) got.push(p.reqId);
        at += n;
      }
      assert.deepEqual(got, expected.get(conn), conn);
      assert.equal(decoder.bufferedBytes, 0);
      assert.ok(decoder.idle);
    }
  });
});

interface ClientConn {
  readonly conn: string;
  readonly requests: readonly CapturedPacket[];
  readonly replies: readonly CapturedPacket[];
}

void describe('data-path framing against the client -> node capture', { skip: skipUnless(CLIENT_TO_NODE) }, () => {
  const packets = readJsonl<ClientConn>(CLIENT_TO_NODE).flatMap((c) => [...c.requests, ...c.replies]);

  void test('69-byte headers (ExtentType 0x10: VerSeq + ProtoVersion) encode and decode', () => {
    let checked = 0;
    for (const p of packets) {
      if ((p.header.ExtentType & ExtentTypeFlag.ProtoVersion) === 0) continue;
      const readRequest = p.header.Opcode === 0x06 && p.header.ResultCode === 0;
      const data = readRequest ? Buffer.alloc(0) : capturedData(p);
      if (data === null) continue;
      const bytes = encodePacket(packetOf(p, data));
      assert.deepEqual(bytes.subarray(0, PACKET_HEADER_BYTES), hexBytes(p.headerHex), `${p.op} header`);
      assert.equal(bytes.length, PACKET_HEADER_BYTES + 12 + p.header.ArgLen + data.length);
      const decoded = decodePacket(bytes);
      assertSameHeader(decoded, p);
      assert.equal(decoded.protoVersion, p.extraHeader?.ProtoVersion);
      assert.deepEqual(Buffer.from(decoded.data), data);
      checked++;
    }
    assert.ok(checked > 100, `checked ${checked} data-path packets`);
  });

  void test('a read request carries no Data: its Size is the length asked for', () => {
    const read = packets.find((p) => p.op === 'OpStreamFollowerRead' && p.header.ResultCode === 0);
    assert.ok(read !== undefined);
    const bytes = encodePacket(packetOf(read, Buffer.alloc(0)));
    const next = encodePacket(makePacket({ opcode: Opcode.DeleteMetaPartition, data: Buffer.from('{}') }));
    const decoder = new PacketDecoder();
    const got = decoder.push(Buffer.concat([bytes, next]));
    assert.equal(got.length, 2);
    assert.equal(got[0].size, read.header.Size);
    assert.equal(got[0].data.length, 0);
    assert.equal(got[1].opcode, Opcode.DeleteMetaPartition);
  });
});

void describe('packet framing flags', () => {
  void test('multi-version (0x80) adds VerSeq: a 65-byte header', () => {
    const p = makePacket({ opcode: 0x03, extentType: ExtentTypeFlag.MultiVersion, verSeq: 0x0102030405060708n, data: Buffer.from('x') });
    const bytes = encodePacket(p);
    assert.equal(bytes.length, 65 + 1);
    const d = decodePacket(bytes);
    assert.equal(d.verSeq, 0x0102030405060708n);
    assert.equal(d.protoVersion, 0);
  });

  void test('a version list (0x40) is a u16 count and 17-byte entries before Arg', () => {
    const versionList = Buffer.alloc(2 * VERSION_INFO_BYTES, 7);
    const p = makePacket({ opcode: 0x26, extentType: ExtentTypeFlag.VersionList | ExtentTypeFlag.MultiVersion, verSeq: 9n, versionList, arg: Buffer.from('a'), data: Buffer.from('dd') });
    const bytes = encodePacket(p);
    assert.equal(bytes.length, 65 + 2 + 34 + 1 + 2);
    assert.equal(bytes.readUInt16BE(65), 2);
    const d = decodePacket(bytes);
    assert.deepEqual(Buffer.from(d.versionList), versionList);
    assert.equal(Buffer.from(d.arg).toString(), 'a');
    assert.equal(Buffer.from(d.data).toString(), 'dd');
  });

  void test('64-bit fields keep every bit, signed ones too', () => {
    const p = makePacket({ opcode: 0x40, partitionId: (1n << 64n) - 1n, extentOffset: -1n, reqId: -(1n << 63n), kernelOffset: 1n << 63n });
    const d = decodePacket(encodePacket(p));
    assert.equal(d.partitionId, (1n << 64n) - 1n);
    assert.equal(d.extentOffset, -1n);
    assert.equal(d.reqId, -(1n << 63n));
    assert.equal(d.kernelOffset, 1n << 63n);
  });
});

void describe('malformed packets', () => {
  const good = encodePacket(makePacket({ opcode: Opcode.MetaNodeHeartbeat, reqId: 5n, data: Buffer.from('{"ID":"x"}') }));

  void test('a short header waits for more bytes; a one-shot decode calls it truncated', () => {
    const decoder = new PacketDecoder();
    assert.deepEqual(decoder.push(good.subarray(0, 30)), []);
    assert.equal(decoder.bufferedBytes, 30);
    assert.equal(decoder.push(good.subarray(30)).length, 1);
    assert.throws(() => decodePacket(good.subarray(0, 30)), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'truncated');
    assert.throws(() => decodePacket(good.subarray(0, good.length - 1)), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'truncated');
    assert.throws(() => decodePacket(Buffer.concat([good, Buffer.from([0xff])])), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'trailing');
  });

  void test('a wrong magic is a typed error, and the decoder stays failed', () => {
    const bad = Buffer.from(good);
    bad[0] = 0x7f;
    const decoder = new PacketDecoder();
    assert.throws(() => decoder.push(bad), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'bad-magic' && /0x7f/.test(e.message));
    assert.throws(() => decoder.push(good), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'bad-magic');
  });

  void test('a huge Size or ArgLen is refused before anything is buffered', () => {
    const huge = Buffer.from(good.subarray(0, PACKET_HEADER_BYTES));
    huge.writeUInt32BE(0xffff_ffff, 9);
    assert.throws(() => new PacketDecoder().push(huge), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'too-large');
    const hugeArg = Buffer.from(good.subarray(0, PACKET_HEADER_BYTES));
    hugeArg.writeUInt32BE(65 << 20, 13);
    assert.throws(() => new PacketDecoder().push(hugeArg), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'too-large' && /ArgLen/.test(e.message));
    // A smaller limit applies too.
    assert.throws(() => new PacketDecoder({ maxDataBytes: 4 }).push(good), (e: unknown) => e instanceof PacketDecodeError && e.reason === 'too-large');
  });

  void test('bad JSON in Data is a NodeMessageError naming the field, never a crash', () => {
    assert.throws(() => decodeAdminTask(Buffer.from('not json')), (e: unknown) => e instanceof NodeMessageError && e.field === '');
    assert.throws(() => decodeAdminTask('[1,2]'), (e: unknown) => e instanceof NodeMessageError && e.field === '');
    assert.throws(() => decodeAdminTask('{"OpCode":"x"}'), (e: unknown) => e instanceof NodeMessageError && e.field === 'OpCode');
    assert.throws(() => decodeAdminTask('{"OpCode":300}'), (e: unknown) => e instanceof NodeMessageError && e.field === 'OpCode');
    assert.throws(() => decodeAdminTask('{"PartitionID":-1}'), (e: unknown) => e instanceof NodeMessageError && e.field === 'PartitionID');
    assert.throws(() => decodeAdminTask(Buffer.from([0x7b, 0xff, 0x7d])), (e: unknown) => e instanceof NodeMessageError && /UTF-8/.test(e.message));
  });

  void test('random bytes never throw anything but a PacketDecodeError', () => {
    const next = chunkSizes(42);
    for (let round = 0; round < 200; round++) {
      const bytes = Buffer.alloc(64 + next() * 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      if (round % 2 === 0) bytes[0] = 0xff;
      const decoder = new PacketDecoder({ maxDataBytes: 1 << 16, maxArgBytes: 1 << 16 });
      try {
        decoder.push(bytes);
      } catch (e) {
        assert.ok(e instanceof PacketDecodeError, String(e));
      }
    }
  });
});
