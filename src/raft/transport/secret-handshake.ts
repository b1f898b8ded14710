// Mutual challenge-response on a shared secret, for clusters without peer TLS (raftSecretFile):
//
//   dialer   -> Hello v2 (auth=secret, from, to, cluster, stream, nonceD)
//   acceptor -> AuthChallenge (nonceA, proofA = HMAC(secret, "acceptor" | hello | nonceA))
//   dialer      checks proofA, then -> AuthProof (proofD = HMAC(secret, "dialer" | hello | nonceA))
//   acceptor    checks proofD; the connection is then open (messages or a snapshot stream follow)
//
// Both proofs cover the Hello as sent (both ids, the cluster, the stream kind, the dialer's nonce)
// and the acceptor's fresh nonce: a proof is good for one connection only, so a recorded
// handshake replayed later fails, and so does one whose ids were changed on the way. The role
// label keeps one side's proof from serving as the other's, and the acceptor proves itself
// first, so a stranger dialing in learns nothing it could answer a member's challenge with. HMAC-SHA256
// (RFC 2104), compared in constant time.
//
// What it does not do (docs/security.md): encrypt, or protect frames after the handshake from
// an attacker on the path; and every holder of the secret can claim any member id. Peer TLS
// does all three.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_NONCE_BYTES, AUTH_PROOF_BYTES } from './transport-wire.js';

/** Fewer bytes than this is not a secret worth the name (128 bits, as a random key). */
export const SECRET_BYTES_MIN = 16;

const ACCEPTOR_LABEL = Buffer.from('cubemaster raft acceptor proof\0');
const DIALER_LABEL = Buffer.from('cubemaster raft dialer proof\0');

export class SharedSecret {
  readonly #secret: Buffer;

  constructor(secret: Uint8Array) {
    if (secret.length < SECRET_BYTES_MIN) throw new RangeError(`the shared secret has ${secret.length} bytes; at least ${SECRET_BYTES_MIN} are needed`);
    this.#secret = Buffer.from(secret);
  }

  static nonce(): Buffer {
    return randomBytes(AUTH_NONCE_BYTES);
  }

  acceptorProof(helloBody: Uint8Array, acceptorNonce: Uint8Array): Buffer {
    return this.#proof(ACCEPTOR_LABEL, helloBody, acceptorNonce);
  }

  dialerProof(helloBody: Uint8Array, acceptorNonce: Uint8Array): Buffer {
    return this.#proof(DIALER_LABEL, helloBody, acceptorNonce);
  }

  /** Constant-time comparison of a received proof with the expected one. */
  static matches(expected: Buffer, received: Uint8Array): boolean {
    return received.length === AUTH_PROOF_BYTES && timingSafeEqual(expected, received);
  }

  #proof(label: Buffer, helloBody: Uint8Array, acceptorNonce: Uint8Array): Buffer {
    return createHmac('sha256', this.#secret).update(label).update(helloBody).update(acceptorNonce).digest();
  }
}
