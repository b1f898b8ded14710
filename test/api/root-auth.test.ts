import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_AUTH_CLOCK_SKEW_MAX_MS, ROOT_AUTH_HEADERS, signRequest, verifySignedRequest } from '../../src/api/root-auth.js';
import { NoPermissionError } from '../../src/model/errors.js';
import { ROOT_AK, ROOT_SK, bootstrapped, ok, userCreateCmd } from '../model/helpers.js';

const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);
const request = { method: 'POST', pathAndQuery: '/cubemaster/snapshot?x=1', body: Buffer.from('{"a":1}') };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NoPermissionError, `expected NoPermissionError, got ${String(e)}`);
    assert.equal(e.code, 57);
    return e.detail;
  }
  assert.fail('the request was accepted');
}

void describe('signed requests for privileged routes', () => {
  const model = bootstrapped();
  const user = ok(model, userCreateCmd('bob'));

  void it('accepts a request signed with the root user keys and names the signer', () => {
    const headers = signRequest(request, ROOT_AK, ROOT_SK, NOW_MS);
    assert.equal(verifySignedRequest(model, headers, request, NOW_MS + 1_000), 'root');
  });

  void it('refuses a request whose method, target or body differ from what was signed', () => {
    const headers = signRequest(request, ROOT_AK, ROOT_SK, NOW_MS);
    for (const changed of [
      { ...request, method: 'GET' },
      { ...request, pathAndQuery: '/cubemaster/snapshot?x=2' },
      { ...request, body: Buffer.from('{"a":2}') },
      { ...request, body: undefined },
    ]) {
      assert.equal(refusal(() => verifySignedRequest(model, headers, changed, NOW_MS)), 'signature does not match');
    }
  });

  void it('refuses a wrong secret, an unknown key, a missing header and a stale date', () => {
    assert.equal(refusal(() => verifySignedRequest(model, signRequest(request, ROOT_AK, 'x'.repeat(32), NOW_MS), request, NOW_MS)), 'signature does not match');
    assert.equal(refusal(() => verifySignedRequest(model, signRequest(request, 'A'.repeat(16), ROOT_SK, NOW_MS), request, NOW_MS)), 'unknown access key');
    const headers = signRequest(request, ROOT_AK, ROOT_SK, NOW_MS);
    const { [ROOT_AUTH_HEADERS.signature]: _dropped, ...unsigned } = headers;
    assert.match(refusal(() => verifySignedRequest(model, unsigned, request, NOW_MS)), /missing header x-cubemaster-signature/);
    assert.match(refusal(() => verifySignedRequest(model, headers, request, NOW_MS + ROOT_AUTH_CLOCK_SKEW_MAX_MS + 1)), /not within/);
    assert.match(refusal(() => verifySignedRequest(model, headers, request, NOW_MS - ROOT_AUTH_CLOCK_SKEW_MAX_MS - 1)), /not within/);
  });

  void it('refuses a valid signature of a user who is not root, unless any user may sign', () => {
    const headers = signRequest(request, user.accessKey, user.secretKey, NOW_MS);
    assert.equal(refusal(() => verifySignedRequest(model, headers, request, NOW_MS)), 'user bob is not the root user');
    assert.equal(verifySignedRequest(model, headers, request, NOW_MS, false), 'bob');
  });
});
