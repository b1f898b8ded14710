// Bodies of the transport's control frames (frame-codec.ts carries them):
//
//   Hello:        u8 protocolVersion | u8 stream (1 raft, 2 snapshot) | varuint from | varuint to
//                 | varuint clusterIdBytes | clusterId (UTF-8)
//   Error:        varuint reasonBytes | reason (UTF-8, at most ERROR_REASON_BYTES_MAX)
//   SnapshotEnd:  varuint totalChunkBytes
//   SnapshotAck:  empty
//
// The receiver of a Hello checks the version, the cluster id and that `to` is itself (a peer
// dialing a stale address reaches the wrong member: refused, not silently accepted).
import { ByteReader, ByteWriter, varuintBytes } from '../codec/binary-codec.js';
import type { NodeId } from '../core/index.js';

export const PROTOCOL_VERSION = 1;

export const StreamKind = {
  Raft: 1,
  Snapshot: 2,
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

export const CLUSTER_ID_BYTES_MAX = 256;
export const ERROR_REASON_BYTES_MAX = 1_024;

export interface Hello {
  readonly version: number;
  readonly stream: StreamKind;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly clusterId: string;
}

export function encodeHello(hello: Hello): Buffer {
  const clusterBytes = Buffer.byteLength(hello.clusterId, 'utf8');
  const w = ByteWriter.alloc(2 + varuintBytes(hello.from) + varuintBytes(hello.to) + varuintBytes(clusterBytes) + clusterBytes);
  w.u8(hello.version);
  w.u8(hello.stream);
  w.varuint(hello.from);
  w.varuint(hello.to);
  w.varuint(clusterBytes);
  w.utf8(hello.clusterId, clusterBytes);
  return w.finish();
}

/** Throws DecodeError; the version is returned as sent (the caller compares it). */
export function decodeHello(body: Uint8Array): Hello {
  const r = new ByteReader(body, 'hello');
  const version = r.u8('version');
  const stream = r.u8('stream');
  if (stream !== StreamKind.Raft && stream !== StreamKind.Snapshot) r.fail(`unknown stream kind ${stream}`);
  const from = r.varuint('from');
  const to = r.varuint('to');
  const clusterBytes = r.boundedVaruint('cluster id length', CLUSTER_ID_BYTES_MAX);
  const clusterId = r.utf8(clusterBytes, 'cluster id');
  r.done();
  return { version, stream: stream as StreamKind, from, to, clusterId };
}

export function encodeErrorReason(reason: string): Buffer {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a third of the limit in code units always fits.
  const text = Buffer.byteLength(reason, 'utf8') <= ERROR_REASON_BYTES_MAX ? reason : reason.slice(0, Math.floor(ERROR_REASON_BYTES_MAX / 3));
  const bytes = Buffer.from(text, 'utf8');
  const w = ByteWriter.alloc(varuintBytes(bytes.length) + bytes.length);
  w.varuint(bytes.length);
  w.bytes(bytes);
  return w.finish();
}

export function decodeErrorReason(body: Uint8Array): string {
  const r = new ByteReader(body, 'error frame');
  const n = r.boundedVaruint('reason length', ERROR_REASON_BYTES_MAX);
  const reason = r.utf8(n, 'reason');
  r.done();
  return reason;
}

export function encodeSnapshotEnd(totalChunkBytes: number): Buffer {
  const w = ByteWriter.alloc(varuintBytes(totalChunkBytes));
  w.varuint(totalChunkBytes);
  return w.finish();
}

export function decodeSnapshotEnd(body: Uint8Array): number {
  const r = new ByteReader(body, 'snapshot end');
  const total = r.varuint('total chunk bytes');
  r.done();
  return total;
}
