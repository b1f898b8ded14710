// The CubeFS packet: the binary frame of every master <-> node admin task and of the data path
// (spec/node-protocol.md 2.2; proto/packet.go MarshalHeader, UnmarshalHeader, ReadFromConnWithVer).
//
// Layout, all integers big-endian:
//   57-byte header: Magic 0xFF, ExtentType u8, Opcode u8, ResultCode u8, RemainingFollowers u8,
//     CRC u32, Size u32, ArgLen u32, PartitionID u64, ExtentID u64, ExtentOffset i64, ReqID i64,
//     KernelOffset u64;
//   then, by ExtentType flags: 0x10 -> VerSeq u64 + ProtoVersion u32 (69-byte header), else 0x80
//     -> VerSeq u64 (65-byte header); 0x40 -> a version list, u16 count + count x 17 bytes;
//   then Arg (ArgLen bytes), then Data (Size bytes), except that a request with a read opcode and
//   ResultCode 0 has no Data (its Size is the length asked for).
// The master's admin packets use none of the flags: 57 bytes, ArgLen 0, Data = AdminTask JSON.
//
// 64-bit fields are bigint so ReqIDs (unixSeconds << 32 + n) and partition ids stay exact.

import { assert } from '../util/assert.js';
import { PacketDecodeError } from './errors.js';
import { isReadOpcode, ResultCode } from './opcodes.js';

export * from './opcodes.js';

export const PACKET_MAGIC = 0xff;
export const PACKET_HEADER_BYTES = 57;
/** One entry of the version list: Ver u64, DelTime i64, Status u8. */
export const VERSION_INFO_BYTES = 17;

/** ExtentType bits that change the framing (proto/packet.go). */
export const ExtentTypeFlag = {
  Normal: 0x01,
  ProtoVersion: 0x10,
  VersionList: 0x40,
  MultiVersion: 0x80,
} as const;

/** Bounds on what a decoder buffers for one packet; a peer announcing more is refused. */
export interface PacketLimits {
  readonly maxArgBytes: number;
  readonly maxDataBytes: number;
}

/** 64 MiB each: far above any admin task or report (a heartbeat with every vol is ~100 KiB). */
export const DEFAULT_PACKET_LIMITS: PacketLimits = { maxArgBytes: 64 << 20, maxDataBytes: 64 << 20 };

export interface Packet {
  readonly extentType: number;
  readonly opcode: number;
  readonly resultCode: number;
  readonly remainingFollowers: number;
  readonly crc: number;
  readonly partitionId: bigint;
  readonly extentId: bigint;
  /** int64 on the wire. */
  readonly extentOffset: bigint;
  /** int64 on the wire; a reply echoes the request's. */
  readonly reqId: bigint;
  readonly kernelOffset: bigint;
  /** Present on the wire only with ExtentType 0x10 or 0x80; 0n otherwise. */
  readonly verSeq: bigint;
  /** Present on the wire only with ExtentType 0x10; 0 otherwise. */
  readonly protoVersion: number;
  /** The raw version-list entries (count x 17 bytes); empty unless ExtentType has 0x40. */
  readonly versionList: Uint8Array;
  readonly arg: Uint8Array;
  readonly data: Uint8Array;
  /** The header's Size: data.length, except on a read request (the length asked for, no Data). */
  readonly size: number;
}

const EMPTY = new Uint8Array(0);
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** A packet with every field not given set to zero/empty; `size` defaults to data.length. */
export function makePacket(fields: Partial<Packet> & { readonly opcode: number }): Packet {
  const data = fields.data ?? EMPTY;
  return {
    extentType: 0,
    resultCode: ResultCode.Init,
    remainingFollowers: 0,
    crc: 0,
    partitionId: 0n,
    extentId: 0n,
    extentOffset: 0n,
    reqId: 0n,
    kernelOffset: 0n,
    verSeq: 0n,
    protoVersion: 0,
    versionList: EMPTY,
    arg: EMPTY,
    ...fields,
    data,
    size: fields.size ?? data.length,
  };
}

/** A reply to `request`: its opcode, PartitionID and ReqID echoed, as the nodes do. */
export function makeReply(request: Packet, resultCode: number, data: Uint8Array = EMPTY): Packet {
  return makePacket({
    opcode: request.opcode,
    resultCode,
    partitionId: request.partitionId,
    extentId: request.extentId,
    extentOffset: request.extentOffset,
    reqId: request.reqId,
    kernelOffset: request.kernelOffset,
    data,
  });
}

function hasNoData(opcode: number, resultCode: number): boolean {
  return isReadOpcode(opcode) && resultCode === ResultCode.Init;
}

/** Bytes after the 57-byte header that the ExtentType flags add (VerSeq, ProtoVersion). */
function extraHeaderBytes(extentType: number): number {
  if ((extentType & ExtentTypeFlag.ProtoVersion) !== 0) return 12;
  if ((extentType & ExtentTypeFlag.MultiVersion) !== 0) return 8;
  return 0;
}

function isU8(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}
function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/** The wire bytes of `p`. Out-of-range fields are programmer errors (assertions). */
export function encodePacket(p: Packet): Buffer {
  assert(isU8(p.extentType) && isU8(p.opcode) && isU8(p.resultCode) && isU8(p.remainingFollowers), 'packet u8 field out of range');
  assert(isU32(p.crc) && isU32(p.size) && isU32(p.arg.length) && isU32(p.data.length), 'packet u32 field out of range');
  for (const v of [p.partitionId, p.extentId, p.kernelOffset, p.verSeq]) assert(v >= 0n && v <= U64_MAX, 'packet u64 field out of range');
  for (const v of [p.extentOffset, p.reqId]) assert(v >= I64_MIN && v <= I64_MAX, 'packet i64 field out of range');
  if (hasNoData(p.opcode, p.resultCode)) assert(p.data.length === 0, 'a read request carries no Data');
  else assert(p.size === p.data.length, () => `packet size ${p.size} differs from data length ${p.data.length}`);
  const withVersionList = (p.extentType & ExtentTypeFlag.VersionList) !== 0;
  assert(p.versionList.length % VERSION_INFO_BYTES === 0, 'version list is not a whole number of entries');
  assert(withVersionList || p.versionList.length === 0, 'a version list needs ExtentType 0x40');
  const versionCount = p.versionList.length / VERSION_INFO_BYTES;
  assert(versionCount <= 0xffff, 'version list longer than 65535 entries');

  const extra = extraHeaderBytes(p.extentType);
  const versionBytes = withVersionList ? 2 + p.versionList.length : 0;
  const out = Buffer.allocUnsafe(PACKET_HEADER_BYTES + extra + versionBytes + p.arg.length + p.data.length);
  out[0] = PACKET_MAGIC;
  out[1] = p.extentType;
  out[2] = p.opcode;
  out[3] = p.resultCode;
  out[4] = p.remainingFollowers;
  out.writeUInt32BE(p.crc, 5);
  out.writeUInt32BE(p.size, 9);
  out.writeUInt32BE(p.arg.length, 13);
  out.writeBigUInt64BE(p.partitionId, 17);
  out.writeBigUInt64BE(p.extentId, 25);
  out.writeBigInt64BE(p.extentOffset, 33);
  out.writeBigInt64BE(p.reqId, 41);
  out.writeBigUInt64BE(p.kernelOffset, 49);
  let at = PACKET_HEADER_BYTES;
  if (extra > 0) {
    out.writeBigUInt64BE(p.verSeq, at);
    if (extra === 12) out.writeUInt32BE(p.protoVersion, at + 8);
    at += extra;
  }
  if (withVersionList) {
    out.writeUInt16BE(versionCount, at);
    out.set(p.versionList, at + 2);
    at += versionBytes;
  }
  out.set(p.arg, at);
  out.set(p.data, at + p.arg.length);
  return out;
}

/** What the fixed 57 bytes say, before the variable parts are read. */
interface Header {
  readonly extentType: number;
  readonly opcode: number;
  readonly resultCode: number;
  readonly remainingFollowers: number;
  readonly crc: number;
  readonly size: number;
  readonly argLen: number;
  readonly partitionId: bigint;
  readonly extentId: bigint;
  readonly extentOffset: bigint;
  readonly reqId: bigint;
  readonly kernelOffset: bigint;
}

function readHeader(b: Buffer, limits: PacketLimits): Header {
  if (b[0] !== PACKET_MAGIC) throw new PacketDecodeError('bad-magic', `bad magic 0x${b[0].toString(16).padStart(2, '0')} (want 0xff)`);
  const h: Header = {
    extentType: b[1],
    opcode: b[2],
    resultCode: b[3],
    remainingFollowers: b[4],
    crc: b.readUInt32BE(5),
    size: b.readUInt32BE(9),
    argLen: b.readUInt32BE(13),
    partitionId: b.readBigUInt64BE(17),
    extentId: b.readBigUInt64BE(25),
    extentOffset: b.readBigInt64BE(33),
    reqId: b.readBigInt64BE(41),
    kernelOffset: b.readBigUInt64BE(49),
  };
  if (h.argLen > limits.maxArgBytes) throw new PacketDecodeError('too-large', `ArgLen ${h.argLen} exceeds the limit of ${limits.maxArgBytes} bytes`);
  if (!hasNoData(h.opcode, h.resultCode) && h.size > limits.maxDataBytes) {
    throw new PacketDecodeError('too-large', `Size ${h.size} exceeds the limit of ${limits.maxDataBytes} bytes`);
  }
  return h;
}

/** Chunks received but not yet consumed; `take` copies only when a field spans chunks. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private headOffset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    assert(n <= this.length, 'ByteQueue.take beyond what is buffered');
    if (n === 0) return Buffer.alloc(0);
    const head = this.chunks[0];
    if (head.length - this.headOffset >= n) {
      const out = head.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const count = Math.min(chunk.length - this.headOffset, n - filled);
      chunk.copy(out, filled, this.headOffset, this.headOffset + count);
      filled += count;
      this.advance(count);
    }
    return out;
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.length -= n;
    if (this.headOffset === this.chunks[0].length) {
      this.chunks.shift();
      this.headOffset = 0;
    }
  }
}

type Stage =
  | { readonly kind: 'header' }
  | { readonly kind: 'extra'; readonly header: Header }
  | { readonly kind: 'version-count'; readonly header: Header; readonly verSeq: bigint; readonly protoVersion: number }
  | { readonly kind: 'body'; readonly header: Header; readonly verSeq: bigint; readonly protoVersion: number; readonly versionBytes: number };

/**
 * Incremental decoder for one TCP stream. `push` returns every packet completed by the chunk;
 * what stays buffered is at most one partial packet, so memory is bounded by the limits. After a
 * PacketDecodeError the stream is out of sync: the decoder keeps throwing it and the owner closes
 * the connection.
 */
export class PacketDecoder {
  private readonly limits: PacketLimits;
  private readonly queue = new ByteQueue();
  private stage: Stage = { kind: 'header' };
  private failure: PacketDecodeError | null = null;

  constructor(limits: Partial<PacketLimits> = {}) {
    this.limits = { ...DEFAULT_PACKET_LIMITS, ...limits };
  }

  /** Bytes received and not yet part of a returned packet. */
  get bufferedBytes(): number {
    return this.queue.length;
  }

  /** True between packets: nothing of a next packet has arrived. */
  get idle(): boolean {
    return this.stage.kind === 'header' && this.queue.length === 0;
  }

  /** The error that put the stream out of sync, once one did (push then throws it). */
  get failed(): PacketDecodeError | null {
    return this.failure;
  }

  /**
   * The packets the chunk completes. Bytes that cannot start a packet throw PacketDecodeError,
   * unless whole packets came before them in the same chunk: those are returned, `failed` is
   * set, and the next push throws. (A node's complete reply followed by stray bytes is still
   * that reply; the owner sees `failed` and closes the connection.)
   */
  push(chunk: Uint8Array): Packet[] {
    if (this.failure !== null) throw this.failure;
    this.queue.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    const out: Packet[] = [];
    try {
      for (let p = this.step(); p !== null; p = this.step()) out.push(p);
    } catch (e) {
      if (!(e instanceof PacketDecodeError)) throw e;
      this.failure = e;
      if (out.length === 0) throw e;
    }
    return out;
  }

  /** Advances by at most one packet; null when more bytes are needed. */
  private step(): Packet | null {
    for (;;) {
      const s = this.stage;
      switch (s.kind) {
        case 'header': {
          if (this.queue.length < PACKET_HEADER_BYTES) return null;
          const header = readHeader(this.queue.take(PACKET_HEADER_BYTES), this.limits);
          this.stage = { kind: 'extra', header };
          break;
        }
        case 'extra': {
          const extra = extraHeaderBytes(s.header.extentType);
          if (this.queue.length < extra) return null;
          const b = this.queue.take(extra);
          const verSeq = extra > 0 ? b.readBigUInt64BE(0) : 0n;
          const protoVersion = extra === 12 ? b.readUInt32BE(8) : 0;
          if ((s.header.extentType & ExtentTypeFlag.VersionList) !== 0) {
            this.stage = { kind: 'version-count', header: s.header, verSeq, protoVersion };
          } else {
            this.stage = { kind: 'body', header: s.header, verSeq, protoVersion, versionBytes: 0 };
          }
          break;
        }
        case 'version-count': {
          if (this.queue.length < 2) return null;
          const count = this.queue.take(2).readUInt16BE(0);
          // At most 65535 x 17 bytes (about 1.1 MB): bounded by the u16 itself.
          this.stage = { kind: 'body', header: s.header, verSeq: s.verSeq, protoVersion: s.protoVersion, versionBytes: count * VERSION_INFO_BYTES };
          break;
        }
        case 'body': {
          const h = s.header;
          const dataBytes = hasNoData(h.opcode, h.resultCode) ? 0 : h.size;
          if (this.queue.length < s.versionBytes + h.argLen + dataBytes) return null;
          // Copies: the packet outlives the chunks it came in, which the socket may reuse.
          const versionList = Buffer.from(this.queue.take(s.versionBytes));
          const arg = Buffer.from(this.queue.take(h.argLen));
          const data = Buffer.from(this.queue.take(dataBytes));
          this.stage = { kind: 'header' };
          return {
            extentType: h.extentType,
            opcode: h.opcode,
            resultCode: h.resultCode,
            remainingFollowers: h.remainingFollowers,
            crc: h.crc,
            partitionId: h.partitionId,
            extentId: h.extentId,
            extentOffset: h.extentOffset,
            reqId: h.reqId,
            kernelOffset: h.kernelOffset,
            verSeq: s.verSeq,
            protoVersion: s.protoVersion,
            versionList,
            arg,
            data,
            size: h.size,
          };
        }
      }
    }
  }
}

/** Decodes exactly one packet from `bytes` (tests, captures); short or long input is an error. */
export function decodePacket(bytes: Uint8Array, limits: Partial<PacketLimits> = {}): Packet {
  const decoder = new PacketDecoder(limits);
  const packets = decoder.push(bytes);
  if (packets.length === 0) throw new PacketDecodeError('truncated', `${bytes.length} bytes are less than one packet`);
  if (packets.length > 1 || decoder.bufferedBytes > 0) throw new PacketDecodeError('trailing', 'bytes follow the packet');
  return packets[0];
}
