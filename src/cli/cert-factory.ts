// Certificates for peer TLS and HTTPS: a cluster CA, member certificates (the member URI that
// binds a certificate to one member of one cluster, src/raft/transport/member-identity.ts, plus
// its addresses as IP or DNS names for HTTPS clients), and client certificates for HTTPS
// clients. ECDSA P-256 with SHA-256: small, fast to make and to handshake with.
//
// Built with @peculiar/x509 over Node's WebCrypto, so that making a test CA needs no openssl
// binary (docs/security.md has the equivalent openssl recipe). The library's dependency
// injection needs the reflect-metadata polyfill: only this module loads it, and only the
// `certs` command and tests load this module (never the server).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import net from 'node:net';
import { memberIdentityUri } from '../raft/transport/member-identity.js';

x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;
type SigningAlgorithm = webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;
/** Certificates start this long before "now", for clocks slightly behind the issuer's. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA able to sign: its certificate and key, as PEM and as loaded keys. */
export interface CertAuthority extends PemPair {
  readonly cert: x509.X509Certificate;
  readonly signingKey: CryptoKey;
  readonly signingAlgorithm: SigningAlgorithm;
}

export interface Validity {
  /** Default: now minus 5 minutes. */
  readonly notBefore?: Date;
  /** Default: notBefore plus `days`. */
  readonly notAfter?: Date;
  /** Default 365 (members, clients) or 3650 (a CA). */
  readonly days?: number;
}

export async function createCertAuthority(options: Validity & { readonly commonName?: string } = {}): Promise<CertAuthority> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity(options, 3650);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [options.commonName ?? 'cubemaster cluster CA'] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey), signingKey: keys.privateKey, signingAlgorithm: EC_P256 };
}

/** A CA made earlier (by this module or openssl: EC P-256/P-384 or RSA keys). */
export async function loadCertAuthority(certPem: string, keyPemText: string): Promise<CertAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const key = createPrivateKey(keyPemText);
  if (!new X509Certificate(certPem).checkPrivateKey(key)) throw new Error('the CA key does not belong to the CA certificate');
  const der = key.export({ type: 'pkcs8', format: 'der' });
  let algorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  let signingAlgorithm: SigningAlgorithm;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : null;
    if (namedCurve === null) throw new Error(`unsupported CA key curve ${curve}`);
    algorithm = { name: 'ECDSA', namedCurve };
    signingAlgorithm = { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' };
  } else if (key.asymmetricKeyType === 'rsa') {
    algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    signingAlgorithm = algorithm;
  } else {
    throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
  }
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return { cert, certPem: cert.toString('pem'), keyPem: keyPemText, signingKey, signingAlgorithm };
}

export interface MemberCertificateOptions extends Validity {
  readonly clusterId: string;
  readonly memberId: number;
  /** IPs and host names HTTPS clients reach the member at (IP or DNS SANs). */
  readonly addresses?: readonly string[];
}

/** A member's certificate: server and client use, its member URI and addresses as SANs. */
export function issueMemberCertificate(ca: CertAuthority, options: MemberCertificateOptions): Promise<PemPair> {
  const names: x509.JsonGeneralName[] = [{ type: 'url', value: memberIdentityUri(options.clusterId, options.memberId) }];
  for (const address of options.addresses ?? []) names.push({ type: net.isIP(address) === 0 ? 'dns' : 'ip', value: address });
  return issue(ca, `cubemaster-member-${options.memberId}`, names, [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], options);
}

/** A client certificate for HTTPS with client-certificate verification (names no member). */
export function issueClientCertificate(ca: CertAuthority, options: Validity & { readonly commonName: string }): Promise<PemPair> {
  return issue(ca, options.commonName, [], [x509.ExtendedKeyUsage.clientAuth], options);
}

async function issue(ca: CertAuthority, commonName: string, names: x509.JsonGeneralName[], usages: x509.ExtendedKeyUsageType[], options: Validity): Promise<PemPair> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity(options, 365);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [commonName] }],
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

function validity(options: Validity, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? defaultDays) * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) throw new RangeError('a certificate must end after it begins');
  return { notBefore, notAfter };
}

/** 128 random bits, positive (RFC 5280 4.1.2.2: at most 20 bytes, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  return bytes.toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}
