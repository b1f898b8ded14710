// One accepted connection: reads the Hello (and, in secret mode, runs the challenge-response),
// then either Raft message batches (delivered to the handler in arrival order) or one snapshot
// stream (snapshot-receiver.ts).
//
// Who may speak (peer-security.ts): the Hello must authenticate the way this member does; with
// peer TLS its `from` must be the member the client certificate names; in secret mode the
// dialer must answer this connection's challenge. Only then are the cluster and member ids
// checked and anything the peer sends read as Raft. A refused peer gets an Error frame with the
// reason, the refusal is counted and logged (peer-refusals.ts), and the connection closes.
//
// Anything malformed (undecodable frame, wrong frame for the phase, a message not from the
// hello's sender or not addressed to us) closes the connection with a logged warning: it never
// throws out of a socket callback. A Hello for another cluster or another member is answered
// with an Error frame naming the mismatch (so the dialer logs why), then the connection closes.
// A connection that is not authenticated within connectTimeoutMs of its accept is closed.
import type { Socket } from 'node:net';
import { DecodeError } from '../codec/binary-codec.js';
import type { NodeId } from '../core/index.js';
import { FrameDecoder, FrameType, encodeFrame, type Frame } from './frame-codec.js';
import type { MemberIdentity } from './member-identity.js';
import { decodeMessageBatch } from './message-codec.js';
import type { RefusalReason } from './peer-refusals.js';
import type { PeerSecurity } from './peer-security.js';
import { SharedSecret } from './secret-handshake.js';
import { SnapshotReceiver, type FrameSink } from './snapshot-receiver.js';
import type { TransportLimits, TransportLogger, TransportMetrics, TransportResources } from './transport-context.js';
import type { TransportHandler } from './transport.js';
import {
  HelloAuth,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_UNAUTHENTICATED,
  StreamKind,
  decodeAuthProof,
  decodeErrorReason,
  decodeHello,
  encodeAuthChallenge,
  encodeErrorReason,
  helloVersion,
  type Hello,
} from './transport-wire.js';

export interface InboundSnapshotSlots {
  /** Takes a slot for a snapshot stream; false when maxInboundSnapshots are running. */
  acquire(): boolean;
  release(): void;
}

const AUTH_NAMES: Readonly<Record<HelloAuth, string>> = {
  [HelloAuth.None]: 'no authentication',
  [HelloAuth.Tls]: 'peer TLS',
  [HelloAuth.Secret]: 'the shared secret',
};

/** hello: waiting for it; proof: challenge sent (secret mode); open: messages or a snapshot stream. */
type Phase = 'hello' | 'proof' | 'open';

export class InboundConnection {
  readonly #socket: Socket;
  readonly #limits: TransportLimits;
  readonly #logger: TransportLogger;
  readonly #metrics: TransportMetrics;
  readonly #resources: TransportResources;
  readonly #handler: TransportHandler;
  readonly #snapshotSlots: InboundSnapshotSlots;
  readonly #security: PeerSecurity;
  /** The member the TLS client certificate names (peer TLS), else null. */
  readonly #identity: MemberIdentity | null;
  readonly #decoder: FrameDecoder;
  readonly #remote: string;
  #phase: Phase = 'hello';
  /** Secret mode, between challenge and proof: the Hello and the proof it must be answered with. */
  #pending: { readonly hello: Hello; readonly expectedProof: Buffer } | null = null;
  #peer: NodeId = 0;
  #sink: FrameSink | null = null;
  #helloTimer: NodeJS.Timeout | null;
  #paused = false;
  #closed = false;

  constructor(
    socket: Socket,
    limits: TransportLimits,
    logger: TransportLogger,
    metrics: TransportMetrics,
    resources: TransportResources,
    handler: TransportHandler,
    snapshotSlots: InboundSnapshotSlots,
    security: PeerSecurity,
    identity: MemberIdentity | null,
  ) {
    this.#socket = socket;
    this.#limits = limits;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#resources = resources;
    this.#handler = handler;
    this.#snapshotSlots = snapshotSlots;
    this.#security = security;
    this.#identity = identity;
    this.#decoder = new FrameDecoder(limits.maxFrameBytes);
    this.#remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = null;
      this.#logger.warn({ remote: this.#remote, phase: this.#phase, timeoutMs: limits.connectTimeoutMs }, 'raft transport: no hello from an inbound connection, or no proof of the secret after it; closing');
      socket.destroy();
    }, limits.connectTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (this.#phase === 'hello' && this.#decoder.bufferedBytes === 0 && this.#looksLikeTls(chunk)) return;
      this.#decoder.push(chunk);
      this.#pump();
    });
    socket.on('error', (err) => {
      this.#logger.debug({ remote: this.#remote, peer: this.#peer, err }, 'raft transport: inbound connection error');
    });
    socket.once('close', () => this.#onClose());
  }

  /** Decodes and dispatches buffered frames until none is whole or the stream asked for a pause. */
  #pump(): void {
    while (!this.#paused && !this.#closed) {
      let frame: Frame | null;
      try {
        frame = this.#decoder.next();
      } catch (err) {
        this.#badFrame(err instanceof DecodeError ? err.message : String(err));
        return;
      }
      if (frame === null) return;
      this.#metrics.framesReceived++;
      let problem: string | null;
      try {
        problem = this.#dispatch(frame);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err; // a bug (or the handler's), not the peer's
        problem = err.message;
      }
      if (problem !== null) {
        this.#badFrame(problem);
        return;
      }
    }
  }

  #dispatch(frame: Frame): string | null {
    if (this.#sink !== null) return this.#sink.onFrame(frame);
    switch (this.#phase) {
      case 'hello':
        if (frame.type !== FrameType.Hello) return `expected Hello, got frame type ${frame.type}`;
        return this.#hello(frame.body);
      case 'proof':
        if (frame.type === FrameType.Error) {
          // The dialer found our proof wrong: its secret differs (or it is not a member). Counted
          // here too, so that the operator of this member sees the misconfigured peer.
          const reason = decodeErrorReason(frame.body);
          this.#refuseAuth('bad-secret', `the dialer does not accept our proof of the shared secret (${reason})`, this.#pending!.hello.from);
          return null;
        }
        if (frame.type !== FrameType.AuthProof) return `expected the proof of the shared secret, got frame type ${frame.type}`;
        return this.#proof(frame.body);
      case 'open':
        break;
    }
    if (frame.type !== FrameType.Messages) return `unexpected frame type ${frame.type} on a raft connection`;
    const messages = decodeMessageBatch(frame.body);
    const self = this.#limits.selfId;
    for (const m of messages) {
      if (m.to !== self || m.from !== this.#peer) return `message from ${m.from} to ${m.to} on a connection from ${this.#peer} to ${self}`;
    }
    this.#metrics.messagesReceived += messages.length;
    // Delivered after the whole batch validated, in order. The handler is synchronous.
    for (const m of messages) this.#handler.onMessage(m);
    return null;
  }

  /** Authentication first: nothing of the Hello but its version and auth kind is acted on before it. */
  #hello(body: Buffer): string | null {
    const version = helloVersion(body);
    if (version !== PROTOCOL_VERSION && version !== PROTOCOL_VERSION_UNAUTHENTICATED) {
      this.#rejectHello(`protocol version ${version}, this member speaks ${PROTOCOL_VERSION_UNAUTHENTICATED} and ${PROTOCOL_VERSION}`, { version });
      return null;
    }
    const hello = decodeHello(body);
    const ours = this.#security.helloAuth;
    if (hello.auth !== ours) {
      // A peer that does not authenticate at all where we require it is a stranger; one that
      // authenticates another way, a configuration mismatch between members.
      const reason: RefusalReason = hello.auth === HelloAuth.None ? 'stranger' : 'auth-mismatch';
      this.#refuseAuth(reason, `the peer offers ${AUTH_NAMES[hello.auth]}, this member requires ${AUTH_NAMES[ours]}`, hello.from);
      return null;
    }
    if (this.#identity !== null && this.#identity.memberId !== hello.from) {
      this.#refuseAuth('id-mismatch', `the client certificate names member ${this.#identity.memberId}, the hello claims member ${hello.from}`, hello.from);
      return null;
    }
    const secret = this.#security.secret;
    if (secret !== null) {
      const nonce = SharedSecret.nonce();
      this.#pending = { hello, expectedProof: secret.dialerProof(body, nonce) };
      this.#phase = 'proof';
      this.#socket.write(encodeFrame(FrameType.AuthChallenge, encodeAuthChallenge(nonce, secret.acceptorProof(body, nonce))));
      return null;
    }
    return this.#authenticated(hello);
  }

  #proof(body: Buffer): string | null {
    const pending = this.#pending!;
    this.#pending = null;
    if (!SharedSecret.matches(pending.expectedProof, decodeAuthProof(body))) {
      this.#refuseAuth('bad-secret', 'the proof of the shared secret does not verify (a different raftSecretFile, or a replayed handshake)', pending.hello.from);
      return null;
    }
    return this.#authenticated(pending.hello);
  }

  /** The peer is who it says: now the Hello's cluster, ids and stream are checked. */
  #authenticated(hello: Hello): string | null {
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    const limits = this.#limits;
    let refusal: string | null = null;
    if (hello.clusterId !== limits.clusterId) refusal = `cluster "${hello.clusterId}", this is "${limits.clusterId}"`;
    else if (hello.to !== limits.selfId) refusal = `dialed member ${hello.to}, this is member ${limits.selfId}`;
    else if (hello.from === 0 || hello.from === limits.selfId) refusal = `invalid sender id ${hello.from}`;
    else if (hello.stream === StreamKind.Snapshot && !this.#snapshotSlots.acquire()) {
      refusal = `too many snapshot streams at once (${limits.maxInboundSnapshots})`;
    }
    if (refusal !== null) {
      this.#rejectHello(refusal, { from: hello.from, to: hello.to, clusterId: hello.clusterId });
      return null;
    }
    this.#peer = hello.from;
    this.#phase = 'open';
    if (hello.stream === StreamKind.Snapshot) {
      const socket = this.#socket;
      this.#sink = new SnapshotReceiver(
        {
          socket,
          peer: hello.from,
          pause: () => {
            this.#paused = true;
            socket.pause();
          },
          resume: () => {
            if (!this.#paused) return;
            this.#paused = false;
            socket.resume();
            // Frames already buffered in the decoder come first; later ones from the socket.
            queueMicrotask(() => this.#pump());
          },
        },
        limits,
        this.#logger,
        this.#metrics,
        this.#resources,
        this.#handler,
        () => this.#snapshotSlots.release(),
      );
    }
    this.#logger.debug({ remote: this.#remote, peer: hello.from, stream: hello.stream }, 'raft transport: accepted a peer connection');
    return null;
  }

  /** A Hello this member cannot serve (version, cluster, member, no snapshot slot). */
  #rejectHello(reason: string, fields: object): void {
    this.#metrics.helloRejected++;
    this.#logger.warn({ remote: this.#remote, ...fields, reason }, 'raft transport: refused an inbound connection');
    this.#refuse(reason);
  }

  /** A peer that did not prove who it claims to be. */
  #refuseAuth(reason: RefusalReason, detail: string, claimed: NodeId): void {
    this.#security.refusals.record({ direction: 'inbound', address: this.#socket.remoteAddress ?? '?', reason, detail, peer: claimed });
    this.#refuse(`refused: ${detail}`);
  }

  /**
   * A TLS ClientHello (record type 22, version 3.x) on a listener without peer TLS: a member
   * configured for TLS dialing one that is not. Refused by name instead of as a bad frame. (A
   * Hello frame never starts so: its length would be at least 0x0316 bytes, beyond any Hello.)
   */
  #looksLikeTls(chunk: Buffer): boolean {
    if (this.#security.mode === 'tls' || chunk.length < 2 || chunk[0] !== 0x16 || chunk[1] !== 0x03) return false;
    this.#closed = true;
    this.#security.refusals.record({ direction: 'inbound', address: this.#socket.remoteAddress ?? '?', reason: 'auth-mismatch', detail: 'the peer speaks TLS, this member has no peer TLS' });
    this.#socket.destroy();
    return true;
  }

  #refuse(reason: string): void {
    this.#closed = true;
    const socket = this.#socket;
    socket.end(encodeFrame(FrameType.Error, encodeErrorReason(reason)), () => socket.destroy());
  }

  #badFrame(reason: string): void {
    this.#metrics.badFrames++;
    this.#logger.warn({ remote: this.#remote, peer: this.#peer, reason }, 'raft transport: bad frame; closing the connection');
    this.#closed = true;
    this.#socket.destroy();
  }

  #onClose(): void {
    this.#closed = true;
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#sink?.onClose();
  }
}
