// How members prove to each other who they are, on every connection (messages and snapshot
// streams, both directions). Three modes, chosen by the server's config (docs/security.md):
//
// - tls:    TLS 1.3 with certificates signed by the cluster's CA, both ways. The acceptor asks
//           for the dialer's certificate and refuses a connection without one, with one the CA
//           did not sign, or one outside its validity period; the certificate's member URI
//           (member-identity.ts) must name this cluster, and the Hello's `from` must be that
//           member (inbound-connection.ts). The dialer verifies the acceptor's certificate
//           against the CA and that it names the member it meant to dial. Nothing is read from
//           a connection before both checks passed.
// - secret: no encryption; a mutual HMAC challenge-response on a shared secret at the start of
//           every connection (secret-handshake.ts).
// - none:   today's default: anyone who reaches the Raft port can speak Raft. The server logs a
//           warning at start.
//
// Why the acceptor verifies the client certificate itself instead of letting Node reject it
// (`rejectUnauthorized: true`): Node then destroys the socket without a trace of who knocked
// or why (no remote address, no alert to the peer). OpenSSL verifies the chain against `ca` in
// both cases (requestCert: true); here socket.authorized, its verdict, is checked as the first
// thing once the handshake completes, before any listener reads a byte, so a refusal can name
// the address and the reason in our log and tell the peer why in an Error frame.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { CubeCode, OperatingError } from '../../util/errors.js';
import type { NodeId } from '../core/index.js';
import { FrameType, encodeFrame } from './frame-codec.js';
import { memberIdentityFromSubjectAltName, type MemberIdentity } from './member-identity.js';
import type { HostPort } from './peer-connection.js';
import { PeerRefusals, type Refusal, type RefusalReason } from './peer-refusals.js';
import { SharedSecret } from './secret-handshake.js';
import type { TransportLogger, TransportMetrics } from './transport-context.js';
import { HelloAuth, encodeErrorReason, encodeHello, decodeAuthChallenge, type StreamKind } from './transport-wire.js';

export type PeerAuth =
  | { readonly mode: 'none' }
  | { readonly mode: 'secret'; readonly secret: Uint8Array }
  | {
      readonly mode: 'tls';
      /** PEM: the cluster CA certificate(s) that sign member certificates. */
      readonly ca: string | Buffer;
      /** PEM: this member's certificate (first), optionally followed by intermediates. */
      readonly cert: string | Buffer;
      /** PEM: its private key. */
      readonly key: string | Buffer;
    };

export type PeerAuthMode = PeerAuth['mode'];

/** The peer authentication material is unusable (the member must not start with it). */
export class PeerAuthConfigError extends OperatingError {
  constructor(message: string, cause?: unknown) {
    super(CubeCode.InvalidCfg, `peer authentication: ${message}`, cause === undefined ? undefined : { cause });
  }
}

/** The acceptor's certificate does not name the member we dialed (tls.checkServerIdentity). */
export class PeerIdentityError extends Error {
  readonly code = 'ERR_CUBEMASTER_PEER_IDENTITY';
}

/** The acceptor failed the secret handshake: the dialer refuses it. */
export class PeerRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** A certificate that expires within this long gets a warning at start. */
export const CERT_EXPIRY_WARNING_MS = 30 * 24 * 3600 * 1000;

const EXPIRED_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'CERT_CHAIN_TOO_LONG',
]);

export interface InboundHandlers {
  /** Every accepted TCP connection, before any handshake (the owner tracks it for close()). */
  onRawSocket(socket: net.Socket): void;
  /** A connection ready for the Hello: authenticated by TLS (with its member identity) or plain. */
  onSocket(socket: net.Socket, identity: MemberIdentity | null): void;
}

export interface PeerSecurityOptions {
  readonly selfId: NodeId;
  readonly clusterId: string;
  readonly logger: TransportLogger;
  readonly metrics: TransportMetrics;
  readonly handshakeTimeoutMs: number;
  readonly refusalLogIntervalMs?: number;
}

export class PeerSecurity {
  readonly mode: PeerAuthMode;
  readonly helloAuth: HelloAuth;
  readonly refusals: PeerRefusals;
  /** Secret mode only. */
  readonly secret: SharedSecret | null;
  readonly #options: PeerSecurityOptions;
  /** Peer TLS: the context outbound connections share (tls.connect takes one). */
  readonly #secureContext: tls.SecureContext | null;
  /** Peer TLS: the material the listener builds its own context from (tls.createServer ignores a `secureContext` option). */
  readonly #tlsMaterial: Pick<tls.SecureContextOptions, 'ca' | 'cert' | 'key'> | null;

  constructor(auth: PeerAuth, options: PeerSecurityOptions) {
    this.mode = auth.mode;
    this.#options = options;
    this.refusals = new PeerRefusals(options.logger, options.metrics, { logIntervalMs: options.refusalLogIntervalMs });
    this.secret = null;
    this.#secureContext = null;
    this.#tlsMaterial = null;
    switch (auth.mode) {
      case 'none':
        this.helloAuth = HelloAuth.None;
        break;
      case 'secret':
        this.helloAuth = HelloAuth.Secret;
        try {
          this.secret = new SharedSecret(auth.secret);
        } catch (err) {
          throw new PeerAuthConfigError((err as Error).message);
        }
        break;
      case 'tls':
        this.helloAuth = HelloAuth.Tls;
        for (const warning of checkMemberCertificate(auth, options.selfId, options.clusterId, Date.now())) {
          options.logger.warn({ selfId: options.selfId }, `raft transport: ${warning}`);
        }
        this.#tlsMaterial = { ca: auth.ca, cert: auth.cert, key: auth.key };
        try {
          this.#secureContext = tls.createSecureContext({ ...this.#tlsMaterial, minVersion: 'TLSv1.3' });
        } catch (err) {
          throw new PeerAuthConfigError(`cannot use the certificate, key and CA: ${(err as Error).message}`, err);
        }
        break;
    }
  }

  /** The Raft listener: a TLS server that hands over only verified members, or a plain TCP one. */
  createServer(handlers: InboundHandlers): net.Server {
    if (this.#tlsMaterial === null) {
      return net.createServer({ noDelay: true }, (socket) => {
        handlers.onRawSocket(socket);
        handlers.onSocket(socket, null);
      });
    }
    const server = tls.createServer({
      ...this.#tlsMaterial,
      minVersion: 'TLSv1.3',
      requestCert: true,
      // Verified in #verifyInbound (see the header); OpenSSL's chain verdict is the same.
      rejectUnauthorized: false,
      handshakeTimeout: this.#options.handshakeTimeoutMs,
      noDelay: true,
    });
    server.on('connection', (raw: net.Socket) => handlers.onRawSocket(raw));
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const verdict = this.#verifyInbound(socket);
      if ('identity' in verdict) {
        handlers.onSocket(socket, verdict.identity);
        return;
      }
      this.refusals.record({ direction: 'inbound', address: socket.remoteAddress ?? '?', ...verdict });
      // Tell the peer why (a misconfigured member logs it), then close.
      socket.end(encodeFrame(FrameType.Error, encodeErrorReason(`refused: ${verdict.detail}`)), () => socket.destroy());
    });
    server.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => {
      const address = socket.remoteAddress ?? '?';
      // A peer hanging up mid-handshake is normal when IT refused OUR certificate (its log says why).
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        this.#options.logger.debug({ remote: address, err: err.message }, 'raft transport: a peer closed during the TLS handshake');
        return;
      }
      this.refusals.record({ direction: 'inbound', address, reason: 'tls-handshake', detail: `${err.code ?? 'error'}: ${firstLine(err.message)}` });
    });
    return server;
  }

  /** Dials a peer; the connection is usable for the Hello once `readyEvent` fires. */
  connect(address: HostPort, peer: NodeId, localAddress: string | undefined): { socket: net.Socket; readyEvent: 'connect' | 'secureConnect' } {
    if (this.#secureContext === null) {
      return { socket: net.connect({ host: address.host, port: address.port, noDelay: true, localAddress }), readyEvent: 'connect' };
    }
    const clusterId = this.#options.clusterId;
    // tls.connect takes socket.connect()'s options too (localAddress), which its type omits.
    const options: tls.ConnectionOptions & net.TcpNetConnectOpts = {
      host: address.host,
      port: address.port,
      localAddress,
      secureContext: this.#secureContext,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      // Members are dialed by address; what must match is the member the certificate names.
      checkServerIdentity: (_host, cert) => {
        const named = memberIdentityFromSubjectAltName(cert.subjectaltname);
        if (!named.ok) return new PeerIdentityError(`member ${peer} at ${address.host}:${address.port}: ${named.problem}`);
        const { identity } = named;
        if (identity.clusterId !== clusterId || identity.memberId !== peer) {
          return new PeerIdentityError(
            `the member at ${address.host}:${address.port} presents the certificate of member ${identity.memberId} of cluster "${identity.clusterId}"; we dialed member ${peer} of "${clusterId}"`,
          );
        }
        return undefined;
      },
    };
    const socket = tls.connect(options);
    socket.setNoDelay(true);
    return { socket, readyEvent: 'secureConnect' };
  }

  /**
   * Why an outbound connection failed, when it is this member refusing the peer (its
   * certificate), or null for a network error or the peer refusing us (its log says why).
   */
  outboundRefusal(err: Error & { code?: string }): { reason: RefusalReason; detail: string } | null {
    if (err instanceof PeerIdentityError) return { reason: 'id-mismatch', detail: err.message };
    if (err instanceof PeerRefusedError) return { reason: err.reason, detail: err.message };
    const code = err.code ?? '';
    if (EXPIRED_CODES.has(code)) return { reason: 'expired', detail: `the peer's certificate: ${code}` };
    if (UNTRUSTED_CODES.has(code)) return { reason: 'untrusted', detail: `the peer's certificate: ${code}` };
    if (/^ERR_(SSL|TLS)_/.test(code) && !code.includes('_ALERT_')) return { reason: 'tls-handshake', detail: `${code}: ${firstLine(err.message)}` };
    return null;
  }

  /** Records a refusal of ours on an outbound connection (counted, logged once per address). */
  refusedOutbound(address: HostPort, peer: NodeId, refusal: { reason: RefusalReason; detail: string }): void {
    this.refusals.record({ direction: 'outbound', address: address.host, peer, ...refusal });
  }

  /**
   * Closes an outbound socket after a refusal; when the acceptor failed the secret handshake,
   * tells it first, so that its operator sees the mismatch too.
   */
  closeRefused(socket: net.Socket, err: Error): void {
    if (err instanceof PeerRefusedError && !socket.destroyed) {
      socket.end(encodeFrame(FrameType.Error, encodeErrorReason(err.message)), () => socket.destroy());
      return;
    }
    socket.destroy();
  }

  dialerHandshake(stream: StreamKind, peer: NodeId): DialerHandshake {
    return new DialerHandshake(this, stream, peer, this.#options.selfId, this.#options.clusterId);
  }

  #verifyInbound(socket: tls.TLSSocket): { identity: MemberIdentity } | Omit<Refusal, 'direction' | 'address'> {
    const cert = socket.getPeerCertificate();
    const hasCert = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
    if (!hasCert) return { reason: 'stranger', detail: 'no client certificate' };
    if (!socket.authorized) {
      const code = String(socket.authorizationError ?? 'unverified');
      const reason: RefusalReason = EXPIRED_CODES.has(code) ? 'expired' : 'untrusted';
      return { reason, detail: `client certificate (${cert.subject?.CN ?? 'no CN'}): ${code}` };
    }
    const named = memberIdentityFromSubjectAltName(cert.subjectaltname);
    if (!named.ok) return { reason: 'id-mismatch', detail: named.problem };
    if (named.identity.clusterId !== this.#options.clusterId) {
      return { reason: 'id-mismatch', peer: named.identity.memberId, detail: `the certificate is for cluster "${named.identity.clusterId}", this is "${this.#options.clusterId}"` };
    }
    return { identity: named.identity };
  }
}

/**
 * The dialer's side of the start of a connection: the Hello to send and, in secret mode, the
 * answer to the acceptor's challenge. The connection is open for messages once the Hello is
 * written (none, TLS) or once the answer is (secret).
 */
export class DialerHandshake {
  readonly helloFrame: Buffer;
  readonly #helloBody: Buffer;
  readonly #secret: SharedSecret | null;
  readonly #peer: NodeId;
  #answered = false;

  constructor(security: PeerSecurity, stream: StreamKind, peer: NodeId, selfId: NodeId, clusterId: string) {
    this.#secret = security.secret;
    this.#peer = peer;
    const nonce = this.#secret === null ? Buffer.alloc(0) : SharedSecret.nonce();
    this.#helloBody = encodeHello({ stream, from: selfId, to: peer, clusterId, auth: security.helloAuth, nonce });
    this.helloFrame = encodeFrame(FrameType.Hello, this.#helloBody);
  }

  get awaitsChallenge(): boolean {
    return this.#secret !== null && !this.#answered;
  }

  /** Checks the acceptor's proof; returns the AuthProof frame to send. Throws PeerRefusedError (or DecodeError). */
  answer(challengeBody: Uint8Array): Buffer {
    if (this.#secret === null || this.#answered) throw new PeerRefusedError('auth-mismatch', `member ${this.#peer} sent an unexpected challenge`);
    const { nonce, proof } = decodeAuthChallenge(challengeBody);
    if (!SharedSecret.matches(this.#secret.acceptorProof(this.#helloBody, nonce), proof)) {
      throw new PeerRefusedError('bad-secret', `member ${this.#peer} does not prove the shared secret (a different raftSecretFile?)`);
    }
    this.#answered = true;
    return encodeFrame(FrameType.AuthProof, this.#secret.dialerProof(this.#helloBody, nonce));
  }
}

/**
 * Checks a member's own certificate before it is used: it must name this member of this cluster,
 * be signed by the CA given, be within its validity period and match the key. Throws
 * PeerAuthConfigError; returns warnings (expiry within CERT_EXPIRY_WARNING_MS).
 */
export function checkMemberCertificate(auth: Extract<PeerAuth, { mode: 'tls' }>, selfId: NodeId, clusterId: string, nowMs: number): string[] {
  const parse = (pem: string | Buffer, what: string): X509Certificate[] => {
    const blocks = String(pem).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new PeerAuthConfigError(`the ${what} holds no PEM certificate`);
    try {
      return blocks.map((block) => new X509Certificate(block));
    } catch (err) {
      throw new PeerAuthConfigError(`the ${what} is not a valid certificate: ${(err as Error).message}`, err);
    }
  };
  const [cert, ...intermediates] = parse(auth.cert, 'member certificate');
  const cas = parse(auth.ca, 'CA file');
  const named = memberIdentityFromSubjectAltName(cert.subjectAltName);
  if (!named.ok) throw new PeerAuthConfigError(`the member certificate: ${named.problem}`);
  if (named.identity.memberId !== selfId || named.identity.clusterId !== clusterId) {
    throw new PeerAuthConfigError(
      `the member certificate names member ${named.identity.memberId} of cluster "${named.identity.clusterId}", but this is member ${selfId} of "${clusterId}"`,
    );
  }
  const issuers = [...cas, ...intermediates];
  if (!issuers.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
    throw new PeerAuthConfigError(`the member certificate (issuer "${cert.issuer.replace(/\n/g, ', ')}") is not signed by the CA given`);
  }
  const notBeforeMs = Date.parse(cert.validFrom);
  const notAfterMs = Date.parse(cert.validTo);
  if (nowMs < notBeforeMs) throw new PeerAuthConfigError(`the member certificate is not valid before ${cert.validFrom}`);
  if (nowMs > notAfterMs) throw new PeerAuthConfigError(`the member certificate expired on ${cert.validTo}`);
  let keyMatches: boolean;
  try {
    keyMatches = cert.checkPrivateKey(createPrivateKey(auth.key));
  } catch (err) {
    throw new PeerAuthConfigError(`the private key cannot be read: ${(err as Error).message}`, err);
  }
  if (!keyMatches) throw new PeerAuthConfigError('the private key does not belong to the member certificate');
  const warnings: string[] = [];
  if (notAfterMs - nowMs < CERT_EXPIRY_WARNING_MS) warnings.push(`the member certificate expires on ${cert.validTo}: renew it (peers refuse it after that)`);
  for (const ca of cas) {
    if (Date.parse(ca.validTo) - nowMs < CERT_EXPIRY_WARNING_MS) warnings.push(`the CA certificate "${ca.subject.replace(/\n/g, ', ')}" expires on ${ca.validTo}`);
  }
  return warnings;
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 300);
}
