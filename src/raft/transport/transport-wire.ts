// Bodies of the transport's control frames (frame-codec.ts carries them):
//
//   Hello v1:     u8 1 | u8 stream (1 raft, 2 snapshot) | varuint from | varuint to
//                 | varuint clusterIdBytes | clusterId (UTF-8)
//   Hello v2:     the same with version 2, then u8 auth (2 tls, 3 secret)
//                 | auth=secret: 32 bytes dialer nonce
//   AuthChallenge (acceptor -> dialer, secret mode): 32 bytes acceptor nonce | 32 bytes proof
//   AuthProof     (dialer -> acceptor, secret mode): 32 bytes proof
//   Error:        varuint reasonBytes | reason (UTF-8, at most ERROR_REASON_BYTES_MAX)
//   SnapshotEnd:  varuint totalChunkBytes
//   SnapshotAck:  empty
//
// The receiver of a Hello checks the version, the cluster id and that `to` is itself (a peer
// dialing a stale address reaches the wrong member: refused, not silently accepted), and that
// the sender authenticates the way this member requires (peer-security.ts).
//
// Versions: a member without peer authentication sends the v1 Hello, byte for byte what members
// before authentication existed send, so that such a cluster can be upgraded one member at a
// time. Authentication needs v2 (the auth field), which v1 members cannot read: turn it on once
// every member runs a version that knows it. A member accepts both versions and refuses, with
// the reason, a Hello whose authentication does not match its own.
import { ByteReader, ByteWriter, varuintBytes } from '../codec/binary-codec.js';
import type { NodeId } from '../core/index.js';

/** The highest Hello version this member speaks (it accepts 1 and 2). */
export const PROTOCOL_VERSION = 2;
/** The Hello of a member without peer authentication (and of every member before v2). */
export const PROTOCOL_VERSION_UNAUTHENTICATED = 1;

export const StreamKind = {
  Raft: 1,
  Snapshot: 2,
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

/** How the sender of a Hello authenticates (v1 Hellos say nothing: 'none'). */
export const HelloAuth = {
  None: 1,
  Tls: 2,
  Secret: 3,
} as const;
export type HelloAuth = (typeof HelloAuth)[keyof typeof HelloAuth];

export const CLUSTER_ID_BYTES_MAX = 256;
export const ERROR_REASON_BYTES_MAX = 1_024;
/** Nonces and proofs of the secret handshake: 256 bits each (HMAC-SHA256). */
export const AUTH_NONCE_BYTES = 32;
export const AUTH_PROOF_BYTES = 32;

export interface Hello {
  /** As sent; encodeHello derives it from `auth` (v1 for none, v2 otherwise). */
  readonly version: number;
  readonly stream: StreamKind;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly clusterId: string;
  readonly auth: HelloAuth;
  /** The dialer's nonce (secret mode only; empty otherwise). */
  readonly nonce: Buffer;
}

export type HelloFields = Omit<Hello, 'version'>;

export function encodeHello(hello: HelloFields): Buffer {
  const clusterBytes = Buffer.byteLength(hello.clusterId, 'utf8');
  const v1 = hello.auth === HelloAuth.None;
  if (hello.auth === HelloAuth.Secret && hello.nonce.length !== AUTH_NONCE_BYTES) throw new RangeError(`a secret-mode Hello needs a ${AUTH_NONCE_BYTES}-byte nonce`);
  const authBytes = v1 ? 0 : 1 + (hello.auth === HelloAuth.Secret ? AUTH_NONCE_BYTES : 0);
  const w = ByteWriter.alloc(2 + varuintBytes(hello.from) + varuintBytes(hello.to) + varuintBytes(clusterBytes) + clusterBytes + authBytes);
  w.u8(v1 ? PROTOCOL_VERSION_UNAUTHENTICATED : PROTOCOL_VERSION);
  w.u8(hello.stream);
  w.varuint(hello.from);
  w.varuint(hello.to);
  w.varuint(clusterBytes);
  w.utf8(hello.clusterId, clusterBytes);
  if (!v1) {
    w.u8(hello.auth);
    if (hello.auth === HelloAuth.Secret) w.bytes(hello.nonce);
  }
  return w.finish();
}

/** The version byte of a Hello body (0 when empty): checked before the rest, whose layout it decides. */
export function helloVersion(body: Uint8Array): number {
  return body.length === 0 ? 0 : body[0];
}

/** Throws DecodeError; the caller checked helloVersion() is 1 or 2. */
export function decodeHello(body: Uint8Array): Hello {
  const r = new ByteReader(body, 'hello');
  const version = r.u8('version');
  if (version !== PROTOCOL_VERSION_UNAUTHENTICATED && version !== PROTOCOL_VERSION) r.fail(`unknown hello version ${version}`);
  const stream = r.u8('stream');
  if (stream !== StreamKind.Raft && stream !== StreamKind.Snapshot) r.fail(`unknown stream kind ${stream}`);
  const from = r.varuint('from');
  const to = r.varuint('to');
  const clusterBytes = r.boundedVaruint('cluster id length', CLUSTER_ID_BYTES_MAX);
  const clusterId = r.utf8(clusterBytes, 'cluster id');
  let auth: HelloAuth = HelloAuth.None;
  let nonce = Buffer.alloc(0);
  if (version === PROTOCOL_VERSION) {
    const kind = r.u8('auth');
    if (kind !== HelloAuth.Tls && kind !== HelloAuth.Secret) r.fail(`unknown auth kind ${kind}`);
    auth = kind as HelloAuth;
    if (auth === HelloAuth.Secret) nonce = Buffer.from(r.bytes(AUTH_NONCE_BYTES, 'nonce'));
  }
  r.done();
  return { version, stream: stream as StreamKind, from, to, clusterId, auth, nonce };
}

export function encodeAuthChallenge(nonce: Uint8Array, proof: Uint8Array): Buffer {
  if (nonce.length !== AUTH_NONCE_BYTES || proof.length !== AUTH_PROOF_BYTES) throw new RangeError('bad challenge sizes');
  return Buffer.concat([nonce, proof]);
}

/** Throws DecodeError. */
export function decodeAuthChallenge(body: Uint8Array): { nonce: Buffer; proof: Buffer } {
  const r = new ByteReader(body, 'auth challenge');
  const nonce = Buffer.from(r.bytes(AUTH_NONCE_BYTES, 'nonce'));
  const proof = Buffer.from(r.bytes(AUTH_PROOF_BYTES, 'proof'));
  r.done();
  return { nonce, proof };
}

/** Throws DecodeError. */
export function decodeAuthProof(body: Uint8Array): Buffer {
  const r = new ByteReader(body, 'auth proof');
  const proof = Buffer.from(r.bytes(AUTH_PROOF_BYTES, 'proof'));
  r.done();
  return proof;
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
