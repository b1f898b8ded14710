// The member a certificate names (its cubemaster:// URI SAN, as Node prints SANs), and the
// refusal log: every refusal counted, one warn line per address and reason per interval, a
// bounded table of addresses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memberIdentityFromSubjectAltName, memberIdentityUri } from '../../../src/raft/transport/member-identity.js';
import { PeerRefusals } from '../../../src/raft/transport/peer-refusals.js';
import { TransportMetrics } from '../../../src/raft/transport/transport-context.js';
import { TestLogger } from './transport-test-kit.js';

void describe('member identity', () => {
  void test('the URI round-trips, with cluster names that need encoding', () => {
    for (const clusterId of ['prod', 'prod east', 'a,b/c"d', 'é']) {
      const uri = memberIdentityUri(clusterId, 42);
      assert.deepEqual(memberIdentityFromSubjectAltName(`IP Address:10.0.0.1, URI:${uri}, DNS:m.example`), { ok: true, identity: { clusterId, memberId: 42 } });
      // Node JSON-quotes values with separators in them.
      assert.deepEqual(memberIdentityFromSubjectAltName(`URI:${JSON.stringify(uri)}`), { ok: true, identity: { clusterId, memberId: 42 } });
    }
  });

  void test('no member URI, two of them, or a malformed one is no identity', () => {
    const problem = (san: string | undefined): string => {
      const r = memberIdentityFromSubjectAltName(san);
      assert.equal(r.ok, false, String(san));
      return r.ok ? '' : r.problem;
    };
    assert.match(problem(undefined), /names no member/);
    assert.match(problem('DNS:m.example, URI:https://other/member/1'), /names no member/);
    assert.match(problem('URI:cubemaster://c/member/1, URI:cubemaster://c/member/2'), /names 2 members/);
    assert.match(problem('URI:cubemaster://c/member/0'), /malformed/);
    assert.match(problem('URI:cubemaster://c/member/1x'), /malformed/);
    assert.match(problem('URI:cubemaster://%E0%A4%A/member/1'), /malformed cluster name/);
  });
});

void describe('peer refusals', () => {
  void test('counted every time, warned once per address and reason per interval, in a bounded table', () => {
    const logger = new TestLogger();
    const metrics = new TransportMetrics();
    let nowMs = 0;
    const refusals = new PeerRefusals(logger, metrics, { logIntervalMs: 1_000, maxTrackedAddresses: 2, nowMs: () => nowMs });
    const knock = (address: string, reason: 'stranger' | 'expired'): void => refusals.record({ direction: 'inbound', address, reason, detail: 'test' });
    for (let i = 0; i < 5; i++) knock('10.0.0.9', 'stranger');
    knock('10.0.0.9', 'expired');
    assert.equal(metrics.refusedStranger, 5);
    assert.equal(metrics.refusedExpired, 1);
    assert.equal(logger.refusals().length, 2);
    nowMs = 1_500;
    knock('10.0.0.9', 'stranger');
    assert.equal(logger.refusals('stranger').length, 2, 'warned again after the interval');
    assert.equal(logger.refusals('stranger')[1].fields.suppressedSinceLastWarn, 4);
    // A third key evicts the oldest: that one warns again at once.
    knock('10.0.0.7', 'stranger');
    knock('10.0.0.9', 'expired');
    assert.equal(logger.refusals('expired').length, 2);
  });
});
