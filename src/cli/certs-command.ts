// `cubemaster certs`: a CA and the certificates of a cluster's members (and, for HTTPS with
// client certificates, of its clients), for tests and small deployments. Files land in --out:
//
//   ca.pem, ca-key.pem                     the cluster CA (reused when already there)
//   member-<id>.pem, member-<id>-key.pem   one per --member
//   client-<name>.pem, client-<name>-key.pem   one per --client
//
// Keys are written 0600. Existing member or client files are kept unless --force. A member is
// named `<id>=<address>[,<address>...]`: its certificate binds it to that id in this cluster
// (docs/security.md) and names the addresses for HTTPS clients.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCertAuthority, issueClientCertificate, issueMemberCertificate, loadCertAuthority, type PemPair } from './cert-factory.js';

export interface CertsOptions {
  readonly out: string;
  readonly cluster: string;
  /** `<id>=<address>[,<address>...]`, one per member. */
  readonly member?: readonly string[];
  /** Client certificate names (CN). */
  readonly client?: readonly string[];
  readonly days?: string;
  readonly caDays?: string;
  readonly force?: boolean;
}

export interface MemberSpec {
  readonly id: number;
  readonly addresses: readonly string[];
}

/** `3=10.0.0.3,m3.example` -> { id: 3, addresses: [...] }; throws naming the bad part. */
export function parseMemberSpec(text: string): MemberSpec {
  const eq = text.indexOf('=');
  const idText = eq < 0 ? text : text.slice(0, eq);
  const id = Number(idText);
  if (!/^[1-9][0-9]*$/.test(idText) || !Number.isSafeInteger(id)) throw new Error(`--member "${text}": the id must be a positive integer (id=address,...)`);
  const addresses = eq < 0 ? [] : text.slice(eq + 1).split(',').map((a) => a.trim()).filter(Boolean);
  return { id, addresses };
}

/** Writes the files; returns one line per file written or reused, for the operator. */
export async function runCerts(options: CertsOptions): Promise<string[]> {
  const members = (options.member ?? []).map(parseMemberSpec);
  const clients = options.client ?? [];
  if (options.cluster === '') throw new Error('--cluster must name the cluster (its clusterName)');
  if (members.length === 0 && clients.length === 0) throw new Error('nothing to make: give --member and/or --client');
  const days = positive(options.days, '--days', 365);
  const caDays = positive(options.caDays, '--ca-days', 3650);
  const ids = new Set<number>();
  for (const m of members) {
    if (ids.has(m.id)) throw new Error(`--member ${m.id} given twice`);
    ids.add(m.id);
  }
  for (const name of clients) if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`--client "${name}": use letters, digits, '.', '_' and '-'`);

  const out = path.resolve(options.out);
  mkdirSync(out, { recursive: true });
  const lines: string[] = [];
  const caCertFile = path.join(out, 'ca.pem');
  const caKeyFile = path.join(out, 'ca-key.pem');
  let ca;
  if (existsSync(caCertFile) && existsSync(caKeyFile)) {
    ca = await loadCertAuthority(readFileSync(caCertFile, 'utf8'), readFileSync(caKeyFile, 'utf8'));
    lines.push(`using the existing CA ${caCertFile}`);
  } else {
    ca = await createCertAuthority({ commonName: `cubemaster ${options.cluster} CA`, days: caDays });
    writePair({ certPem: ca.certPem, keyPem: ca.keyPem }, caCertFile, caKeyFile);
    lines.push(`CA: ${caCertFile} (key ${caKeyFile}, keep it off the members)`);
  }
  const refuseOverwrite = (file: string): void => {
    if (!options.force && existsSync(file)) throw new Error(`${file} exists (--force replaces it)`);
  };
  for (const m of members) {
    const certFile = path.join(out, `member-${m.id}.pem`);
    const keyFile = path.join(out, `member-${m.id}-key.pem`);
    refuseOverwrite(certFile);
    refuseOverwrite(keyFile);
    writePair(await issueMemberCertificate(ca, { clusterId: options.cluster, memberId: m.id, addresses: m.addresses, days }), certFile, keyFile);
    lines.push(`member ${m.id}: "raftTlsCaFile": "${caCertFile}", "raftTlsCertFile": "${certFile}", "raftTlsKeyFile": "${keyFile}"`);
  }
  for (const name of clients) {
    const certFile = path.join(out, `client-${name}.pem`);
    const keyFile = path.join(out, `client-${name}-key.pem`);
    refuseOverwrite(certFile);
    refuseOverwrite(keyFile);
    writePair(await issueClientCertificate(ca, { commonName: name, days }), certFile, keyFile);
    lines.push(`client ${name}: ${certFile} (key ${keyFile})`);
  }
  return lines;
}

function writePair(pair: PemPair, certFile: string, keyFile: string): void {
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600); // the mode above applies to a new file only (--force)
  writeFileSync(certFile, pair.certPem, { mode: 0o644 });
}

function positive(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${flag} must be a positive number of days, got "${text}"`);
  return n;
}
