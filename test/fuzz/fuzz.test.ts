// The fuzzers with a fixed seed and a small budget (a few seconds each, well under 40 s in all):
// every HTTP route with random and mutated parameters, the Raft transport and the node packet
// path with malformed frames, and their decoders alone. Each prints its report (cases run,
// outcomes, findings). Long runs: `npm run fuzz -- --seconds N [--seed S] [--real]`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, type FuzzReport } from './fuzz-report.js';
import { inProcessTarget, runHttpFuzz, type HttpFuzzTarget, type HttpReply } from './http-fuzz.js';
import { runNodeCodecFuzz, runNodePacketFuzz } from './node-packet-fuzz.js';
import { runRaftCodecFuzz, runRaftTransportFuzz } from './raft-transport-fuzz.js';

/** Fixed: a failure here replays exactly with `npm run fuzz -- --seed 20261207 ...`. */
export const DEFAULT_FUZZ_SEED = 20261207;

function check(t: { diagnostic(message: string): void }, report: FuzzReport, minCases: number): void {
  t.diagnostic(formatReport(report));
  for (const f of report.findings) t.diagnostic(f);
  assert.ok(report.cases >= minCases, `ran ${report.cases} cases, want ${minCases}`);
  assert.deepEqual(report.findings, [], `findings (seed ${report.seed})`);
}

void describe('fuzzing with the default budget (seed 20261207)', () => {
  void it('HTTP: every route, random and mutated requests, cubefs mode: well-formed replies, refused calls change nothing, no unmapped error, no leak', async (t) => {
    check(t, await runHttpFuzz(inProcessTarget('cubefs'), { seed: DEFAULT_FUZZ_SEED, cases: 1200 }), 1200);
  });

  void it('HTTP: the same in signed mode', async (t) => {
    check(t, await runHttpFuzz(inProcessTarget('signed'), { seed: DEFAULT_FUZZ_SEED + 1, cases: 400 }), 400);
  });

  void it('Raft transport: malformed frames on real sockets close the connection, count, and the member keeps serving', async (t) => {
    check(t, await runRaftTransportFuzz({ seed: DEFAULT_FUZZ_SEED, cases: 300 }), 300);
  });

  void it('Raft codecs: mutated hellos, batches and frame streams decode or throw DecodeError', async (t) => {
    check(t, await runRaftCodecFuzz({ seed: DEFAULT_FUZZ_SEED, cases: 2000 }), 2000);
  });

  void it('node packets: malformed replies to the task client fail that call with a NodeTaskError, warn once, and the client keeps serving', async (t) => {
    check(t, await runNodePacketFuzz({ seed: DEFAULT_FUZZ_SEED, cases: 200 }), 200);
  });

  void it('node codecs: mutated packets, AdminTask JSON and heartbeat reports decode or are refused with typed errors', async (t) => {
    check(t, await runNodeCodecFuzz({ seed: DEFAULT_FUZZ_SEED, cases: 2000 }), 2000);
  });
});

void describe('the HTTP fuzzer\'s checks, against a deliberately broken target', () => {
  void it('report a refused call that changed state, an unmapped error, a broken envelope, an odd status, a hang, a logged error and a leak', async () => {
    let state = 0;
    let sent = 0;
    const envelope = (code: number, msg: string): HttpReply => ({ status: 200, contentType: 'application/json', gzip: false, body: Buffer.from(JSON.stringify({ code, msg, data: null })) });
    const target: HttpFuzzTarget = {
      name: 'broken',
      probes: {},
      signers: [],
      nowMs: () => 0,
      send: () => {
        sent += 1;
        switch (sent) {
          case 1:
            state += 1;
            return Promise.resolve(envelope(2, 'refused, yet applied'));
          case 2:
            return Promise.resolve(envelope(1, 'internal error (reqId m1-2)'));
          case 3:
            return Promise.resolve({ status: 200, contentType: 'application/json', gzip: false, body: Buffer.from('{"code":0}') });
          case 4:
            return Promise.resolve({ status: 500, contentType: 'text/plain', gzip: false, body: Buffer.from('boom') });
          case 5:
            return new Promise<HttpReply>(() => undefined);
          default:
            return Promise.resolve(envelope(0, 'success'));
        }
      },
      stateDigest: () => Promise.resolve(String(state)),
      settle: () => Promise.resolve(),
      problems: () => Promise.resolve(sent === 6 ? ['logged an error: boom'] : []),
      restore: () => undefined,
      close: () => Promise.resolve(['TCPSocketWrap x1']),
    };
    const report = await runHttpFuzz(target, { seed: 1, cases: 6 }, 50);
    const expected = [/^case 0: .*refused \(code 2 refused, yet applied\) but the state changed$/, /^case 1: .*unmapped error answered as code 1/, /^case 2: .*not a \{code,msg,data\} envelope/, /^case 3: .*unexpected HTTP status 500/, /^case 4: .*hung: no reply within 50 ms/, /^case 5: .*logged an error: boom/, /^after the run: leaked TCPSocketWrap x1$/];
    assert.equal(report.findings.length, expected.length, report.findings.join('\n'));
    expected.forEach((pattern, i) => assert.match(report.findings[i], pattern));
  });
});
