import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkAccessKey,
  checkDataMediaType,
  checkNodeAddr,
  checkNodeSetCapacity,
  checkOptionalPort,
  checkOwner,
  checkPasswordSha1,
  checkSecretKey,
  checkUserId,
  checkUserTypeForCreate,
  checkUserTypeForUpdate,
  checkVolName,
  checkZoneName,
  passwordSha1,
  randomAlnum,
  resolveDataNodeMediaType,
} from '../../src/model/index.js';
import { OperatingError, ParamError } from '../../src/util/errors.js';

function expectParamError(fn: () => unknown, field: string, code: number, message?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ParamError, `expected ParamError, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.equal(e.code, code);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

void describe('validate', () => {
  const userIds: [string, boolean][] = [
    ['alice', true],
    ['a', true],
    ['A_1', true],
    ['a12345678901234567890', true], // 21 characters
    ['a123456789012345678901', false], // 22 characters
    ['1alice', false],
    ['_alice', false],
    ['ali-ce', false],
    ['ali ce', false],
    ['', false],
  ];
  for (const [id, legal] of userIds) {
    void it(`user id ${JSON.stringify(id)} is ${legal ? 'accepted' : 'refused with code 55'}`, () => {
      if (legal) assert.equal(checkUserId(id), id);
      else expectParamError(() => checkUserId(id), 'id', 55, 'invalid user ID');
    });
  }

  void it('owner uses the user id rule but answers code 2', () => {
    expectParamError(() => checkOwner('1alice'), 'owner', 2, 'owner can only be number and letters');
    assert.equal(checkOwner('alice'), 'alice');
  });

  const volNames: [string, boolean][] = [
    ['vol', true],
    ['v.o-l_1', true],
    ['ab', false],
    ['-vol', false],
    ['vol-', false],
    ['v'.repeat(63), true],
    ['v'.repeat(64), false],
  ];
  for (const [name, legal] of volNames) {
    void it(`vol name ${name.length > 10 ? `${name.length} chars` : JSON.stringify(name)} is ${legal ? 'accepted' : 'refused'}`, () => {
      if (legal) assert.equal(checkVolName(name), name);
      else expectParamError(() => checkVolName(name), 'name', 2, 'name can only be number and letters');
    });
  }

  const keys: [string, string, boolean, boolean][] = [
    // value, label, legal as AK, legal as SK
    ['AAAAAAAAAAAAAAAA', '16 letters', true, false],
    ['aB3dE5gH7jK9mN1p', '16 alnum', true, false],
    ['S'.repeat(32), '32 letters', false, true],
    ['short', 'short', false, false],
    ['AAAAAAAAAAAAAAA!', 'punctuation', false, false],
    ['AAAAAAAAAAAAAAAAA', '17 letters', false, false],
    ['', 'empty', false, false],
  ];
  for (const [value, label, akOk, skOk] of keys) {
    void it(`access key "${label}" ${akOk ? 'passes' : 'fails with 59'}, secret key ${skOk ? 'passes' : 'fails with 60'}`, () => {
      if (akOk) assert.equal(checkAccessKey(value), value);
      else expectParamError(() => checkAccessKey(value), 'ak', 59, 'invalid access key');
      if (skOk) assert.equal(checkSecretKey(value), value);
      else expectParamError(() => checkSecretKey(value), 'sk', 60, 'invalid secret key');
    });
  }

  void it('user type for create: 2 and 3 pass, root and others fail with 56', () => {
    assert.equal(checkUserTypeForCreate(2), 2);
    assert.equal(checkUserTypeForCreate(3), 3);
    for (const t of [1, 0, 4, -1, '2', null, undefined]) {
      expectParamError(() => checkUserTypeForCreate(t), 'type', 56, 'invalid user type');
    }
  });

  void it('user type for update: 0/absent mean unchanged', () => {
    assert.equal(checkUserTypeForUpdate(0), null);
    assert.equal(checkUserTypeForUpdate(undefined), null);
    assert.equal(checkUserTypeForUpdate(2), 2);
    expectParamError(() => checkUserTypeForUpdate(1), 'type', 56);
  });

  const addrs: [string, boolean][] = [
    ['127.0.0.1:17210', true],
    ['10.0.0.255:1', true],
    ['192.168.1.1:65535', true],
    ['[::1]:17210', true],
    ['127.0.0.1', false],
    ['127.0.0.1:', false],
    ['127.0.0.1:0', false],
    ['127.0.0.1:65536', false],
    ['127.0.0.1:12a', false],
    ['256.0.0.1:80', false],
    ['1.2.3:80', false],
    ['localhost:80', false],
    ['[::1]80', false],
    ['[zz]:80', false],
    ['', false],
  ];
  for (const [addr, legal] of addrs) {
    void it(`node addr ${JSON.stringify(addr)} is ${legal ? 'legal' : 'refused: code 2 "addr not legal"'}`, () => {
      if (legal) assert.equal(checkNodeAddr(addr), addr);
      else expectParamError(() => checkNodeAddr(addr), 'addr', 2, 'addr not legal');
    });
  }

  void it('optional ports: empty or 1..65535', () => {
    assert.equal(checkOptionalPort('', 'heartbeatPort'), '');
    assert.equal(checkOptionalPort('17230', 'heartbeatPort'), '17230');
    expectParamError(() => checkOptionalPort('0', 'heartbeatPort'), 'heartbeatPort', 2);
    expectParamError(() => checkOptionalPort('x', 'replicaPort'), 'replicaPort', 2);
    expectParamError(() => checkOptionalPort('70000', 'replicaPort'), 'replicaPort', 2);
  });

  void it('zone names: non-empty, bounded, printable', () => {
    assert.equal(checkZoneName('default'), 'default');
    assert.equal(checkZoneName('zone#1'), 'zone#1');
    expectParamError(() => checkZoneName(''), 'zoneName', 2);
    expectParamError(() => checkZoneName('a\u0000b'), 'zoneName', 2);
    expectParamError(() => checkZoneName('z'.repeat(256)), 'zoneName', 2);
  });

  void it('node set capacity: at least 3 (nodeSetCap)', () => {
    assert.equal(checkNodeSetCapacity(3), 3);
    assert.equal(checkNodeSetCapacity(18), 18);
    expectParamError(() => checkNodeSetCapacity(2), 'nodeSetCapacity', 2);
    expectParamError(() => checkNodeSetCapacity(3.5), 'nodeSetCapacity', 2);
  });

  void it('data node media type: 1 or 2; missing needs legacyDataMediaType (else code 1)', () => {
    assert.equal(checkDataMediaType(1), 1);
    assert.equal(checkDataMediaType(2), 2);
    expectParamError(() => checkDataMediaType(3), 'mediaType', 2);
    assert.equal(resolveDataNodeMediaType(2, 0), 2);
    assert.equal(resolveDataNodeMediaType(undefined, 1), 1);
    assert.equal(resolveDataNodeMediaType(0, 2), 2);
    assert.throws(
      () => resolveDataNodeMediaType(undefined, 0),
      (e: unknown) => e instanceof OperatingError && e.code === 1 && /mediaType/.test(e.message),
    );
  });

  void it('password hashes are 40 lower-case hex digits', () => {
    const h = passwordSha1('CubeFSRoot');
    assert.match(h, /^[0-9a-f]{40}$/);
    assert.equal(checkPasswordSha1(h), h);
    expectParamError(() => checkPasswordSha1(h.toUpperCase()), 'password', 2);
    expectParamError(() => checkPasswordSha1('pw'), 'password', 2);
  });

  void it('randomAlnum maps supplied entropy to legal keys and skips biased bytes', () => {
    let i = 0;
    const bytes = [255, 250, 248, 0, 61, 62, 247];
    const s = randomAlnum(4, () => bytes[i++ % bytes.length]);
    assert.equal(s, 'A9A9');
    let n = 0;
    const key = randomAlnum(16, () => (n++ * 37) % 256);
    assert.equal(checkAccessKey(key), key);
  });
});
