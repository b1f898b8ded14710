// `cubemaster certs`: the files it writes (keys 0600), certificates that chain to the CA and bind
// each member's id, cluster and addresses, a CA reused on a second run, and existing member
// files kept unless --force.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseMemberSpec, runCerts } from '../../src/cli/certs-command.js';
import { memberIdentityFromSubjectAltName } from '../../src/raft/transport/member-identity.js';

const out = mkdtempSync(path.join(tmpdir(), 'certs-command-'));
after(() => rmSync(out, { recursive: true, force: true }));

void test('makes a CA, member certificates bound to their ids and addresses, and client certificates', async () => {
  const lines = await runCerts({ out, cluster: 'prod east', member: ['1=10.0.0.1', '2=10.0.0.2,m2.example'], client: ['admin'] });
  assert.equal(lines.length, 4);
  const ca = new X509Certificate(readFileSync(path.join(out, 'ca.pem')));
  assert.ok(ca.ca);
  for (const id of [1, 2]) {
    const cert = new X509Certificate(readFileSync(path.join(out, `member-${id}.pem`)));
    assert.ok(cert.verify(ca.publicKey), `member ${id} is signed by the CA`);
    const named = memberIdentityFromSubjectAltName(cert.subjectAltName);
    assert.deepEqual(named, { ok: true, identity: { clusterId: 'prod east', memberId: id } });
    assert.equal(statSync(path.join(out, `member-${id}-key.pem`)).mode & 0o777, 0o600);
  }
  assert.match(new X509Certificate(readFileSync(path.join(out, 'member-2.pem'))).subjectAltName ?? '', /IP Address:10\.0\.0\.2, DNS:m2\.example/);
  const client = new X509Certificate(readFileSync(path.join(out, 'client-admin.pem')));
  assert.ok(client.verify(ca.publicKey));
  assert.equal(memberIdentityFromSubjectAltName(client.subjectAltName).ok, false, 'a client certificate names no member');
});

void test('a second run reuses the CA; existing member files are kept unless --force', async () => {
  const caBefore = readFileSync(path.join(out, 'ca.pem'), 'utf8');
  const lines = await runCerts({ out, cluster: 'prod east', member: ['3=10.0.0.3'] });
  assert.match(lines[0], /using the existing CA/);
  assert.equal(readFileSync(path.join(out, 'ca.pem'), 'utf8'), caBefore);
  assert.ok(new X509Certificate(readFileSync(path.join(out, 'member-3.pem'))).verify(new X509Certificate(caBefore).publicKey));
  const member1 = readFileSync(path.join(out, 'member-1.pem'), 'utf8');
  await assert.rejects(runCerts({ out, cluster: 'prod east', member: ['1=10.0.0.1'] }), /member-1\.pem exists \(--force replaces it\)/);
  assert.equal(readFileSync(path.join(out, 'member-1.pem'), 'utf8'), member1);
  await runCerts({ out, cluster: 'prod east', member: ['1=10.0.0.1'], force: true });
  assert.notEqual(readFileSync(path.join(out, 'member-1.pem'), 'utf8'), member1);
});

void test('bad arguments are refused by name', async () => {
  assert.throws(() => parseMemberSpec('x=10.0.0.1'), /--member "x=10\.0\.0\.1": the id must be a positive integer/);
  assert.throws(() => parseMemberSpec('0=10.0.0.1'), /positive integer/);
  assert.deepEqual(parseMemberSpec('7'), { id: 7, addresses: [] });
  await assert.rejects(runCerts({ out, cluster: 'c' }), /nothing to make/);
  await assert.rejects(runCerts({ out, cluster: 'c', member: ['1', '1'] }), /given twice/);
  await assert.rejects(runCerts({ out, cluster: 'c', member: ['1'], days: '0' }), /--days must be a positive number/);
  await assert.rejects(runCerts({ out, cluster: 'c', client: ['a/b'] }), /--client "a\/b"/);
});
