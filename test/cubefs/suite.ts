// The node:test body shared by the *.cubefs.ts files: start the reference and the compared
// targets, run the steps in order (one test each), print the summary, stop and await everything.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SPEC_COMMANDS, type Step } from './cases.js';
import { findBinaries, suiteOptions } from './env.js';
import { Runner } from './runner.js';
import { removeTargetDir, startTarget, type Target, type TargetOptions } from './targets.js';

export interface SuiteSpec {
  readonly title: string;
  readonly steps: readonly Step[];
  readonly masters: 1 | 3;
  readonly metaNodes: number;
  readonly dataNodes: number;
  /** For 3 masters: the third octet of each target's 127.0.x.1-3 (reference first). */
  readonly loopbackOctets: readonly number[];
  /** Assert that every spec 8.1 command has a case. */
  readonly coverAllCommands: boolean;
}

export function defineSuite(spec: SuiteSpec): void {
  const found = findBinaries();
  const options = suiteOptions();
  const skip = found.ok ? false : `reference binaries not available: ${found.reason}`;
  if (!found.ok) process.stderr.write(`cubefs suite "${spec.title}" skipped: ${found.reason}\n`);

  void describe(spec.title, { skip }, () => {
    const targets: Target[] = [];
    let runner: Runner | null = null;
    let failures = 0;
    const reportFile = path.join(tmpdir(), `cubefs-cli-report-${process.pid}-${spec.masters}m.md`);

    before(async () => {
      if (!found.ok) return;
      const common = { bins: found.bins, masters: spec.masters, metaNodes: spec.metaNodes, dataNodes: spec.dataNodes } as const;
      const octet = (i: number): number => spec.loopbackOctets[i] ?? 0;
      const reference: TargetOptions = { ...common, kind: 'go', nodeProvider: 'go', loopbackOctet: octet(0), readyTimeoutMs: 60_000, nodeRegisterTimeoutMs: 60_000, nodeWritableTimeoutMs: 90_000 };
      const wanted: TargetOptions[] = options.targets.map((kind, i) =>
        i === 0
          ? reference
          : kind === 'go'
            ? { ...reference, label: `Go-${i + 1}`, loopbackOctet: octet(i) }
            : { ...common, kind, nodeProvider: options.cubemasterNodes, loopbackOctet: octet(i), readyTimeoutMs: 30_000, nodeRegisterTimeoutMs: 30_000, nodeWritableTimeoutMs: 45_000 },
      );
      const started = await Promise.allSettled(wanted.map((o) => startTarget(o)));
      const errors: string[] = [];
      for (const [i, r] of started.entries()) {
        if (r.status === 'fulfilled') targets.push(r.value);
        else errors.push(`${wanted[i].label ?? wanted[i].kind} did not start: ${(r.reason as Error).message}`);
      }
      if (errors.length > 0) {
        failures++;
        throw new Error(errors.join('\n'));
      }
      runner = new Runner({ bins: found.bins, reference: targets[0], others: targets.slice(1), partitionWaitMs: { reference: 60_000, other: 30_000 } });
    });

    after(async () => {
      if (runner !== null) {
        runner.writeReport(reportFile, options.verbose);
        process.stderr.write(`\n${runner.summary()}\n\nfull report: ${reportFile}\n`);
      }
      await Promise.all(targets.map((t) => t.stop()));
      const keep = options.keep || failures > 0;
      for (const t of targets) {
        if (keep) process.stderr.write(`kept ${t.label} dir (logs, data): ${t.dir}\n`);
        else removeTargetDir(t);
      }
    });

    if (spec.coverAllCommands) {
      void it('has a case for every command of spec section 8.1', () => {
        const covered = new Set(spec.steps.flatMap((s) => (s.kind === 'cli' ? [s.command] : [])));
        assert.deepEqual(
          SPEC_COMMANDS.filter((c) => !covered.has(c)),
          [],
        );
      });
    }

    for (const [index, step] of spec.steps.entries()) {
      const title = `${String(index + 1).padStart(3, '0')} ${step.kind === 'setup' ? `[setup] ${step.name}` : step.name}`;
      const filtered = step.kind === 'cli' && options.caseFilter !== null && !options.caseFilter.test(step.name);
      void it(title, { skip: filtered ? 'CUBEFS_CASES' : false }, async () => {
        assert.ok(runner !== null, 'the targets did not start (see the before hook)');
        if (step.kind === 'setup') {
          const problems = await runner.setup(step);
          if (problems.reference.length > 0 || problems.others.length > 0) failures++;
          assert.deepEqual(problems.reference, [], 'the Go reference setup failed');
          assert.deepEqual(problems.others, [], 'setup problems of the compared target (the cases continue)');
          return;
        }
        const result = await runner.run(step);
        const ok = result.selfCheck === '' && [...result.verdicts.values()].every((v) => v.match);
        if (!ok || options.verbose) process.stderr.write(`\n${runner.describe(result, options.verbose)}\n`);
        if (!ok) failures++;
        assert.equal(result.selfCheck, '', `the Go reference did not behave as the case expects:\n${runner.describe(result, true)}`);
        for (const [label, v] of result.verdicts) assert.ok(v.match, `${label} differs from Go: ${v.reason}`);
      });
    }
  });
}
