// The transport security keys of master.json: which combinations start, which are refused
// naming the key, and what the loader hands the transport and the API (files read, secret
// trimmed, the key pair checked, a warning when peer traffic is unauthenticated).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createCertAuthority, issueMemberCertificate } from '../../src/cli/cert-factory.js';
import { parseConfig } from '../../src/server/config.js';
import { loadTransportSecurity } from '../../src/server/transport-security.js';
import { ParamError } from '../../src/util/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'transport-security-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Captured {
  level: number;
  msg: string;
}

function capturingLogger(): { logger: pino.Logger; lines: Captured[] } {
  const lines: Captured[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Captured) });
  return { logger, lines };
}

function config(extra: Record<string, unknown>): ReturnType<typeof parseConfig> {
  return parseConfig({ id: 1, ...extra }, dir);
}

function refused(extra: Record<string, unknown>, key: string, pattern: RegExp): void {
  assert.throws(() => config(extra), (err) => err instanceof ParamError && err.message.includes(key) && pattern.test(err.message), `${key}: ${String(pattern)}`);
}

before(async () => {
  const ca = await createCertAuthority();
  const m1 = await issueMemberCertificate(ca, { clusterId: 'cubemaster', memberId: 1, addresses: ['127.0.0.1'] });
  const m2 = await issueMemberCertificate(ca, { clusterId: 'cubemaster', memberId: 2 });
  writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(path.join(dir, 'm1.pem'), m1.certPem);
  writeFileSync(path.join(dir, 'm1-key.pem'), m1.keyPem);
  writeFileSync(path.join(dir, 'm2-key.pem'), m2.keyPem);
  writeFileSync(path.join(dir, 'secret'), 'a-long-enough-shared-secret-0123456789\n', { mode: 0o600 });
  writeFileSync(path.join(dir, 'short'), 'short\n', { mode: 0o600 });
  writeFileSync(path.join(dir, 'open-secret'), 'another-long-enough-shared-secret-xyz');
  chmodSync(path.join(dir, 'open-secret'), 0o644);
});

void describe('transport security config', () => {
  void test('keys that go together, and keys that exclude each other, are refused naming the key', () => {
    refused({ raftTlsCaFile: 'ca.pem', raftTlsCertFile: 'm1.pem' }, 'raftTlsKeyFile', /go together/);
    refused({ httpTlsCertFile: 'm1.pem' }, 'httpTlsKeyFile', /go together/);
    refused({ raftTlsCaFile: 'ca.pem', raftTlsCertFile: 'm1.pem', raftTlsKeyFile: 'm1-key.pem', raftSecretFile: 'secret' }, 'raftSecretFile', /exclude each other/);
    refused({ httpTlsCaFile: 'ca.pem' }, 'httpTlsCaFile', /needs HTTPS on/);
    refused({ httpTlsCertFile: 'm1.pem', httpTlsKeyFile: 'm1-key.pem', httpTlsRequireClientCert: true }, 'httpTlsRequireClientCert', /needs httpTlsCaFile/);
    const plain = config({});
    assert.equal(plain.raftTlsCertFile, undefined);
    assert.equal(plain.httpTlsRequireClientCert, false);
    assert.equal(config({ raftSecretFile: 'secret' }).raftSecretFile, path.join(dir, 'secret'), 'paths resolve against the config folder');
  });

  void test('the loader: none warns, the secret is read and trimmed, TLS and HTTPS files are read', () => {
    const none = capturingLogger();
    assert.deepEqual(loadTransportSecurity(config({}), none.logger), { peerAuth: { mode: 'none' }, https: undefined, forwardTls: undefined });
    assert.ok(none.lines.some((l) => l.level === 40 && /peer traffic is unauthenticated/.test(l.msg)));

    const secret = capturingLogger();
    const loaded = loadTransportSecurity(config({ raftSecretFile: 'secret' }), secret.logger);
    assert.equal(loaded.peerAuth.mode, 'secret');
    assert.equal(loaded.peerAuth.mode === 'secret' && Buffer.from(loaded.peerAuth.secret).toString(), 'a-long-enough-shared-secret-0123456789');
    assert.ok(!secret.lines.some((l) => /readable by other users/.test(l.msg)));
    const open = capturingLogger();
    loadTransportSecurity(config({ raftSecretFile: 'open-secret' }), open.logger);
    assert.ok(open.lines.some((l) => l.level === 40 && /readable by other users/.test(l.msg)));
    assert.throws(() => loadTransportSecurity(config({ raftSecretFile: 'short' }), none.logger), /raftSecretFile|at least 16/);
    assert.throws(() => loadTransportSecurity(config({ raftSecretFile: 'missing' }), none.logger), /cannot read raftSecretFile/);

    const full = loadTransportSecurity(
      config({ raftTlsCaFile: 'ca.pem', raftTlsCertFile: 'm1.pem', raftTlsKeyFile: 'm1-key.pem', httpTlsCertFile: 'm1.pem', httpTlsKeyFile: 'm1-key.pem', httpTlsCaFile: 'ca.pem', httpTlsRequireClientCert: true }),
      none.logger,
    );
    assert.equal(full.peerAuth.mode, 'tls');
    assert.equal(full.https?.requestCert, true);
    assert.equal(full.https?.rejectUnauthorized, true);
    assert.ok(full.forwardTls?.cert !== undefined && full.forwardTls.ca !== undefined, 'forwarding presents the member certificate and trusts the CA');
    assert.throws(() => loadTransportSecurity(config({ httpTlsCertFile: 'm1.pem', httpTlsKeyFile: 'm2-key.pem' }), none.logger), /httpTlsKeyFile is not the key of httpTlsCertFile/);
  });
});
