// `--tls` / `--https` chaos runs: a CA and member certificates for the run's members, the master
// config that turns on peer TLS (--tls: every Raft link and snapshot stream through the proxy is
// TLS, network-proxy.ts) and HTTPS with client certificates required (--https: forwarding
// between members, the workload and the simulated nodes over HTTPS), and the trust the
// harness's clients use.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCertAuthority, issueClientCertificate, issueMemberCertificate } from '../../src/cli/cert-factory.js';
import type { TlsTrust } from '../integration/cfs-client.js';

export interface ChaosTls {
  /** Peer TLS on: the proxy sees TLS records. */
  readonly peer: boolean;
  /** HTTPS on: forwards between members cannot go through the (HTTP) forwarding proxy. */
  readonly https: boolean;
  /** Config keys of one member: its certificate files for peer TLS and/or HTTPS. */
  memberConfig(id: number): Record<string, unknown>;
  /** With HTTPS: what the harness's HTTP clients and simulated nodes trust and present. */
  readonly httpTrust: TlsTrust | undefined;
}

export async function makeChaosTls(dir: string, clusterName: string, hosts: readonly string[], options: { readonly peer: boolean; readonly https: boolean }): Promise<ChaosTls> {
  mkdirSync(dir, { recursive: true });
  const ca = await createCertAuthority({ commonName: `${clusterName} chaos CA` });
  const caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  for (const [i, host] of hosts.entries()) {
    const pair = await issueMemberCertificate(ca, { clusterId: clusterName, memberId: i + 1, addresses: [host] });
    writeFileSync(path.join(dir, `member-${i + 1}.pem`), pair.certPem);
    writeFileSync(path.join(dir, `member-${i + 1}-key.pem`), pair.keyPem, { mode: 0o600 });
  }
  const client = await issueClientCertificate(ca, { commonName: 'chaos-harness' });
  return {
    peer: options.peer,
    https: options.https,
    memberConfig: (id) => {
      const cert = path.join(dir, `member-${id}.pem`);
      const key = path.join(dir, `member-${id}-key.pem`);
      const peer = options.peer ? { raftTlsCaFile: caFile, raftTlsCertFile: cert, raftTlsKeyFile: key } : {};
      if (!options.https) return peer;
      return {
        ...peer,
        httpTlsCertFile: cert,
        httpTlsKeyFile: key,
        httpTlsCaFile: caFile,
        httpTlsRequireClientCert: true,
      };
    },
    httpTrust: options.https ? { ca: ca.certPem, cert: client.certPem, key: client.keyPem } : undefined,
  };
}
