// The transport security keys of the config turned into what the transport and the API use
// (docs/security.md): the files are read once at start (a renewed certificate takes a restart),
// and an unreadable or unusable one stops the start with the key named.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { ForwardOptions } from '../api/forward.js';
import { SECRET_BYTES_MIN } from '../raft/transport/secret-handshake.js';
import type { PeerAuth } from '../raft/transport/tcp-transport.js';
import { CubeCode, ParamError } from '../util/errors.js';
import type { MasterConfig } from './config.js';

export interface TransportSecurity {
  readonly peerAuth: PeerAuth;
  /** HTTPS options for the API server, or undefined for plain HTTP. */
  readonly https: HttpsServerOptions | undefined;
  /** How followers reach the leader's API over HTTPS (undefined: plain HTTP). */
  readonly forwardTls: ForwardOptions['tls'];
}

export function loadTransportSecurity(config: MasterConfig, logger: Logger): TransportSecurity {
  const peerAuth = loadPeerAuth(config, logger);
  if (config.httpTlsCertFile === undefined || config.httpTlsKeyFile === undefined) {
    return { peerAuth, https: undefined, forwardTls: undefined };
  }
  const cert = read('httpTlsCertFile', config.httpTlsCertFile);
  const key = read('httpTlsKeyFile', config.httpTlsKeyFile);
  checkKeyPair(cert, key);
  const ca = config.httpTlsCaFile === undefined ? undefined : read('httpTlsCaFile', config.httpTlsCaFile);
  const require = config.httpTlsRequireClientCert;
  logger.info({ clientCertificates: require ? 'required' : 'not asked for' }, 'HTTP API serves HTTPS');
  return {
    peerAuth,
    https: { cert, key, ca, requestCert: require, rejectUnauthorized: require, minVersion: 'TLSv1.2' },
    // The member's own certificate doubles as its client certificate towards the leader.
    forwardTls: { ca, cert, key },
  };
}

function loadPeerAuth(config: MasterConfig, logger: Logger): PeerAuth {
  if (config.raftTlsCaFile !== undefined && config.raftTlsCertFile !== undefined && config.raftTlsKeyFile !== undefined) {
    return {
      mode: 'tls',
      ca: read('raftTlsCaFile', config.raftTlsCaFile),
      cert: read('raftTlsCertFile', config.raftTlsCertFile),
      key: read('raftTlsKeyFile', config.raftTlsKeyFile),
    };
  }
  if (config.raftSecretFile !== undefined) {
    const file = config.raftSecretFile;
    // Trailing white space is not part of the secret: `openssl rand -hex 32 > file` works as is.
    const secret = Buffer.from(read('raftSecretFile', file).toString('latin1').replace(/\s+$/, ''), 'latin1');
    if (secret.length < SECRET_BYTES_MIN) throw bad('raftSecretFile', `${file} holds ${secret.length} bytes; at least ${SECRET_BYTES_MIN} are needed (e.g. openssl rand -hex 32)`);
    if ((statSync(file).mode & 0o077) !== 0) logger.warn({ file }, 'raftSecretFile is readable by other users: chmod 600 it');
    logger.warn({}, 'peer traffic is authenticated by a shared secret but not encrypted (docs/security.md); peer TLS (raftTlsCaFile, raftTlsCertFile, raftTlsKeyFile) also encrypts it');
    return { mode: 'secret', secret };
  }
  logger.warn({}, 'peer traffic is unauthenticated: anyone who reaches the Raft port can speak Raft to this member; set raftTlsCaFile, raftTlsCertFile and raftTlsKeyFile, or raftSecretFile (docs/security.md)');
  return { mode: 'none' };
}

function read(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw bad(key, `cannot read ${key} ${file}: ${(error as Error).message}`);
  }
}

function checkKeyPair(certPem: Buffer, keyPem: Buffer): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch (error) {
    throw bad('httpTlsCertFile', `httpTlsCertFile and httpTlsKeyFile cannot be used: ${(error as Error).message}`);
  }
  if (!matches) throw bad('httpTlsKeyFile', 'httpTlsKeyFile is not the key of httpTlsCertFile');
}

function bad(key: string, message: string): ParamError {
  return new ParamError(key, `config: ${message}`, CubeCode.InvalidCfg);
}
