// Who a member certificate belongs to. Peer TLS authenticates a certificate (signed by the
// cluster's CA); this binds it to one member of one cluster, so that a member cannot speak as
// another: the certificate carries ONE subject alternative name of type URI
//
//   cubemaster://<cluster name, percent-encoded>/member/<member id>
//
// and the transport compares it with the ids on both ends of every connection (the acceptor: the
// Hello's `from`; the dialer: the member it meant to dial). A URI SAN, as SPIFFE ids are, because
// it is typed and unambiguous where a CN is free text; `openssl req -addext
// "subjectAltName=URI:..."` and `cubemaster certs` both write it (docs/security.md).
import type { NodeId } from '../core/index.js';

const SCHEME = 'cubemaster://';

export interface MemberIdentity {
  readonly clusterId: string;
  readonly memberId: NodeId;
}

export type MemberIdentityResult = { readonly ok: true; readonly identity: MemberIdentity } | { readonly ok: false; readonly problem: string };

export function memberIdentityUri(clusterId: string, memberId: NodeId): string {
  return `${SCHEME}${encodeURIComponent(clusterId)}/member/${memberId}`;
}

/**
 * The member a certificate names, from Node's `subjectaltname` text (X509Certificate or
 * getPeerCertificate(): `URI:a, IP Address:b`, a value with a comma or quote JSON-quoted).
 * Exactly one cubemaster URI must be present: none or two is no identity.
 */
export function memberIdentityFromSubjectAltName(subjectAltName: string | undefined): MemberIdentityResult {
  const uris = subjectAltNames(subjectAltName ?? '')
    .filter((san) => san.type === 'URI' && san.value.startsWith(SCHEME))
    .map((san) => san.value);
  if (uris.length === 0) return { ok: false, problem: `the certificate names no member (no ${SCHEME}<cluster>/member/<id> URI SAN)` };
  if (uris.length > 1) return { ok: false, problem: `the certificate names ${uris.length} members (${uris.join(', ')}); one is required` };
  const match = /^cubemaster:\/\/([^/]+)\/member\/([1-9][0-9]{0,15})$/.exec(uris[0]);
  const memberId = match === null ? NaN : Number(match[2]);
  if (match === null || !Number.isSafeInteger(memberId)) return { ok: false, problem: `malformed member URI "${uris[0]}"` };
  let clusterId: string;
  try {
    clusterId = decodeURIComponent(match[1]);
  } catch {
    return { ok: false, problem: `malformed cluster name in member URI "${uris[0]}"` };
  }
  return { ok: true, identity: { clusterId, memberId } };
}

interface SubjectAltName {
  readonly type: string;
  readonly value: string;
}

/** Splits Node's SAN text into entries (values with separators in them come JSON-quoted). */
function subjectAltNames(text: string): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  for (let m = entry.exec(text); m !== null && m[0] !== ''; m = entry.exec(text)) {
    let value = m[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        return out; // not Node's format: whatever came before stands, the rest is ignored
      }
    }
    out.push({ type: m[1], value });
  }
  return out;
}
