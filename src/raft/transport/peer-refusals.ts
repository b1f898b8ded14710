// Connections refused because of who is on the other end: counted always, logged at warn once per
// remote address and reason per interval (the rest at debug, with the count suppressed), so that
// a stranger knocking ten times a second is one line a minute, and each new stranger or new
// reason is seen at once. The table of addresses is bounded; the oldest entry makes room.
import type { TransportLogger, TransportMetricName, TransportMetrics } from './transport-context.js';

/**
 * - stranger:      no client certificate (peer TLS), or no authentication at all where this member requires it
 * - untrusted:     a certificate not signed by the cluster's CA (or an invalid chain)
 * - expired:       a certificate outside its validity period (expired or not yet valid)
 * - id-mismatch:   a certificate naming another member or cluster than the connection claims
 *                  or the dialer meant to reach, or one naming no member at all
 * - bad-secret:    a proof of the shared secret that does not verify (wrong secret, replay)
 * - auth-mismatch: the peer authenticates another way than this member (secret vs none vs TLS)
 * - tls-handshake: the TLS handshake failed (a plaintext peer, a TLS version below 1.3, a timeout)
 */
export type RefusalReason = 'stranger' | 'untrusted' | 'expired' | 'id-mismatch' | 'bad-secret' | 'auth-mismatch' | 'tls-handshake';

export const REFUSAL_REASONS: readonly RefusalReason[] = ['stranger', 'untrusted', 'expired', 'id-mismatch', 'bad-secret', 'auth-mismatch', 'tls-handshake'];

const METRIC: Readonly<Record<RefusalReason, TransportMetricName>> = {
  stranger: 'refusedStranger',
  untrusted: 'refusedUntrusted',
  expired: 'refusedExpired',
  'id-mismatch': 'refusedIdMismatch',
  'bad-secret': 'refusedBadSecret',
  'auth-mismatch': 'refusedAuthMismatch',
  'tls-handshake': 'refusedTlsHandshake',
};

export function refusalMetricName(reason: RefusalReason): TransportMetricName {
  return METRIC[reason];
}

export interface Refusal {
  /** inbound: we refused a connection to us; outbound: we refused the member we dialed. */
  readonly direction: 'inbound' | 'outbound';
  /** The remote IP (inbound) or host (outbound). */
  readonly address: string;
  readonly reason: RefusalReason;
  /** What exactly, for the operator (names ids, the certificate's error code...). */
  readonly detail: string;
  /** The member id the peer claimed (inbound) or we dialed (outbound), when known. */
  readonly peer?: number;
}

export interface PeerRefusalsOptions {
  /** Per address and reason, one warn line at most this often (default 60 s). */
  readonly logIntervalMs?: number;
  /** Addresses remembered for that (default 1024). */
  readonly maxTrackedAddresses?: number;
  readonly nowMs?: () => number;
}

interface Seen {
  loggedAtMs: number;
  suppressed: number;
}

export class PeerRefusals {
  readonly #logger: TransportLogger;
  readonly #metrics: TransportMetrics;
  readonly #logIntervalMs: number;
  readonly #maxTracked: number;
  readonly #nowMs: () => number;
  /** `${direction} ${address} ${reason}` -> last warn; insertion order = age (re-inserted on warn). */
  readonly #seen = new Map<string, Seen>();

  constructor(logger: TransportLogger, metrics: TransportMetrics, options: PeerRefusalsOptions = {}) {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#logIntervalMs = options.logIntervalMs ?? 60_000;
    this.#maxTracked = options.maxTrackedAddresses ?? 1_024;
    this.#nowMs = options.nowMs ?? (() => performance.now());
  }

  record(refusal: Refusal): void {
    this.#metrics[METRIC[refusal.reason]]++;
    const key = `${refusal.direction} ${refusal.address} ${refusal.reason}`;
    const nowMs = this.#nowMs();
    const seen = this.#seen.get(key);
    const fields = { direction: refusal.direction, remote: refusal.address, peer: refusal.peer, reason: refusal.reason, detail: refusal.detail };
    const msg = refusal.direction === 'inbound' ? 'raft transport: refused a connection from an unauthenticated peer' : 'raft transport: refused the peer we dialed';
    if (seen !== undefined && nowMs - seen.loggedAtMs < this.#logIntervalMs) {
      seen.suppressed++;
      this.#logger.debug(fields, msg);
      return;
    }
    this.#seen.delete(key);
    if (this.#seen.size >= this.#maxTracked) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, { loggedAtMs: nowMs, suppressed: 0 });
    this.#logger.warn({ ...fields, suppressedSinceLastWarn: seen?.suppressed ?? 0 }, msg);
  }
}
