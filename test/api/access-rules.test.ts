// The access-rule table (src/api/access-rules.ts) against the API that enforces it: every route
// has a row and every row a route; docs/access-rules.md is the table's rendering; and in both
// modes every row is walked with an anonymous caller, a normal user, an admin and root, each
// getting the exact code the table promises, and a refused call changing nothing (model digest,
// Raft calls, QPS limits).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InjectOptions } from 'fastify';
import type { AccessMode, RouteAccessRow } from '../../src/api/access-rules.js';
import { ACCESS_MODES, ROUTE_ACCESS, ruleIn } from '../../src/api/access-rules.js';
import { signRequest } from '../../src/api/root-auth.js';
import { modelDigest } from '../../src/model/index.js';
import { ACCESS_RULES_DOC_PATH, CALLER_CLASSES, type CallerClass, outcomeOf, renderAccessRulesDoc } from './access-rules-doc.js';
import type { TestMaster } from './helpers.js';
import { call, T_USERS_MS } from './helpers.js';
import type { Probe } from './route-fixture.js';
import { KEYS, routeFixture as fixture, routeProbes as probes, signedRequest as request } from './route-fixture.js';

/** Everything a call could change: the model, Raft membership calls, this member's QPS limits. */
async function sideState(m: TestMaster): Promise<string> {
  const qps = await call(m.app, '/admin/getApiQpsLimit');
  return JSON.stringify([modelDigest(m.group.state), m.raft.calls.length, m.group.leaderId, qps.envelope.data]);
}

/** The code (or 'http200') an allowed caller got, or the refusal code. */
async function codeOf(m: TestMaster, options: InjectOptions): Promise<{ code: number | 'http200' | `http${number}`; msg: string }> {
  const answer = await call(m.app, options);
  if (String(answer.headers['content-type']).startsWith('application/json')) {
    const env = answer.envelope;
    return { code: env.code, msg: env.msg };
  }
  return { code: `http${answer.status}`, msg: answer.text.slice(0, 200) };
}

function expectedCode(row: RouteAccessRow, mode: AccessMode, probe: Probe, caller: CallerClass): number | 'http200' {
  const rule = ruleIn(row, mode);
  if (rule === 'self-or-admin' && probe.aboutRoot === true) return caller === 'root' ? probe.code : 57;
  const outcome = outcomeOf(rule, caller);
  if (outcome === 'ok' || (outcome === 'self' && probe.aboutNormal === true)) return probe.code;
  return 57;
}

void describe('the access-rule table', () => {
  void it('has a row for every route served and a route for every row, with the same methods and the rule enforced', async () => {
    for (const mode of ACCESS_MODES) {
      const { master } = fixture(mode);
      await master.app.ready();
      const served = new Map(master.api.routes().map((r) => [r.url, r]));
      const rows = new Map(ROUTE_ACCESS.map((r) => [r.url, r]));
      const withoutRow = [...served.keys()].filter((url) => !rows.has(url));
      assert.deepEqual(withoutRow, [], 'routes served without a row in src/api/access-rules.ts');
      const withoutRoute = ROUTE_ACCESS.filter((r) => r.onlyWhen === undefined && !served.has(r.url)).map((r) => r.url);
      assert.deepEqual(withoutRoute, [], 'rows of src/api/access-rules.ts without a route');
      assert.equal(rows.size, ROUTE_ACCESS.length, 'a path has two rows');
      for (const [url, route] of served) {
        const row = rows.get(url)!;
        assert.deepEqual(route.methods, [...row.methods].sort(), `${url}: methods`);
        // A route registered without defineRoute enforces nothing: its row must say open.
        assert.equal(route.enforced ?? 'open', ruleIn(row, mode), `${url}: rule enforced in ${mode} mode`);
      }
      await master.app.close();
    }
  });

  void it('is what docs/access-rules.md shows (rewrite: node dist/test/api/access-rules-doc.js --write)', () => {
    const path = fileURLToPath(new URL(`../../../${ACCESS_RULES_DOC_PATH}`, import.meta.url));
    assert.equal(readFileSync(path, 'utf8'), renderAccessRulesDoc());
  });

  void it('has a probe below for every row', () => {
    const { master, ids } = fixture('cubefs');
    const all = probes(ids);
    assert.deepEqual(
      ROUTE_ACCESS.filter((r) => r.onlyWhen === undefined && all[r.url] === undefined).map((r) => r.url),
      [],
    );
    void master.app.close();
  });
});

for (const mode of ACCESS_MODES) {
  void describe(`every route in ${mode} mode, called by anonymous, normal, admin and root`, () => {
    void it('gets each caller the code of its rule, and a refused call changes nothing', async () => {
      const { master, ids } = fixture(mode);
      const all = probes(ids);
      const failures: string[] = [];
      try {
        for (const row of ROUTE_ACCESS) {
          for (const probe of all[row.url] ?? []) {
            for (const [i, caller] of CALLER_CLASSES.entries()) {
              const method = probe.method ?? 'GET';
              const url = probe.url(i, caller);
              const want = expectedCode(row, mode, probe, caller);
              const before = want === 57 ? await sideState(master) : '';
              const got = await codeOf(master, request(method, url, probe.body?.(i, caller), caller));
              if (got.code !== want) failures.push(`${mode} ${caller} ${method} ${url}: got ${got.code} (${got.msg}), want ${want}`);
              if (want === 57) {
                if (!/^no permission: /.test(got.msg)) failures.push(`${mode} ${caller} ${url}: refusal text ${JSON.stringify(got.msg)}`);
                if ((await sideState(master)) !== before) failures.push(`${mode} ${caller} ${method} ${url}: refused, yet the state changed`);
              }
              if (probe.wrongKey !== undefined) {
                const wrong = probe.wrongKey(i);
                const beforeWrong = await sideState(master);
                const refused = await codeOf(master, request(method, wrong, undefined, caller));
                if (refused.code !== 34) failures.push(`${mode} ${caller} ${wrong}: got ${refused.code} (${refused.msg}), want 34`);
                if ((await sideState(master)) !== beforeWrong) failures.push(`${mode} ${caller} ${wrong}: refused, yet the state changed`);
              }
            }
          }
        }
      } finally {
        await master.app.close();
      }
      assert.deepEqual(failures, []);
    });
  });
}

void describe('signatures on the signed rules', () => {
  void it('refuses a bad signature, a stale date and a signature of another request with 57 naming the reason', async () => {
    const { master } = fixture('signed');
    try {
      const url = '/dataPartition/load?id=999999';
      const good = request('GET', url, undefined, 'admin');
      const headers = good.headers as Record<string, string>;
      const cases: [string, Record<string, string>, RegExp][] = [
        ['wrong secret', signRequest({ method: 'GET', pathAndQuery: url, body: undefined }, KEYS.admin.ak, 'x'.repeat(32), T_USERS_MS), /signature does not match/],
        ['other target', signRequest({ method: 'GET', pathAndQuery: '/dataPartition/load?id=999998', body: undefined }, KEYS.admin.ak, KEYS.admin.sk, T_USERS_MS), /signature does not match/],
        ['stale date', signRequest({ method: 'GET', pathAndQuery: url, body: undefined }, KEYS.admin.ak, KEYS.admin.sk, T_USERS_MS - 3_600_000), /not within/],
        ['unknown key', { ...headers, 'x-cubemaster-access-key': 'Z'.repeat(16) }, /unknown access key/],
      ];
      for (const [what, h, pattern] of cases) {
        const got = await codeOf(master, { method: 'GET', url, headers: h });
        assert.equal(got.code, 57, what);
        assert.match(got.msg, /^no permission: \/dataPartition\/load needs a request signed by an admin or root: /, what);
        assert.match(got.msg, pattern, what);
      }
      assert.equal((await codeOf(master, good)).code, 11);
      const normal = await codeOf(master, request('GET', url, undefined, 'normal'));
      assert.equal(normal.msg, 'no permission: /dataPartition/load needs a request signed by an admin or root: user nina is a normal user');
      const rootRecord = await codeOf(master, request('GET', '/user/info?user=root', undefined, 'admin'));
      assert.equal(rootRecord.msg, "no permission: /user/info needs a request signed by the user it is about, an admin or root: the root user's record is shown to root only, not to adam");
    } finally {
      await master.app.close();
    }
  });

  void it('counts every refusal in cubemaster_api_refused_total{reason="access"}', async () => {
    const { master } = fixture('signed');
    try {
      await codeOf(master, request('GET', '/user/list', undefined, 'anonymous'));
      await codeOf(master, request('GET', '/raftNode/add?id=5&addr=127.0.0.1:1', undefined, 'admin'));
      const metrics = (await call(master.app, '/metrics')).text;
      assert.match(metrics, /cubemaster_api_refused_total\{reason="access",route="\/user\/list"\} 1/);
      assert.match(metrics, /cubemaster_api_refused_total\{reason="access",route="\/raftNode\/add"\} 1/);
    } finally {
      await master.app.close();
    }
  });
});
