// Runs the steps of cases.ts against the started targets in lockstep and keeps every result for
// the report.
import { writeFileSync } from 'node:fs';
import type { CliCase, SetupStep } from './cases.js';
import { EXPLICIT_KEYS } from './cases.js';
import { runCli, type CliResult } from './cli.js';
import { compareResults, summarize, table, type Normalized, type Verdict } from './compare.js';
import type { CubefsBinaries } from './env.js';
import { cfsData, waitFor } from './http.js';
import { knownDifferencesFor } from './known-differences.js';
import { keySubstitutions, maskLabel, normalize, placeholders, type Mask, type Placeholders, type UserKeys } from './normalize.js';
import type { Target } from './targets.js';

export interface TargetRun {
  readonly argv: readonly string[];
  readonly raw: CliResult;
  readonly norm: Normalized;
}

export interface CaseResult {
  readonly step: CliCase;
  readonly runs: Map<string, TargetRun>;
  /** Reference vs each other target. */
  readonly verdicts: Map<string, Verdict>;
  /** Why the reference result does not fit the case (empty when it does). */
  readonly selfCheck: string;
}

/** Go proto.Unavailable and proto.ReadOnly, a partition's Status in the master's views. */
const UNAVAILABLE = -1;
const READ_ONLY = 1;

interface MetaPartitionView {
  PartitionID: number;
  LeaderAddr: string;
  Status: number;
}
interface DataPartitionsView {
  DataPartitions: { PartitionID: number; LeaderAddr: string; Status: number }[] | null;
}
interface UserInfo {
  user_id: string;
  access_key: string;
  secret_key: string;
}

class TargetState {
  holders: Placeholders;
  readonly users = new Map<string, UserKeys>();
  userListError = '';

  constructor(readonly target: Target) {
    this.holders = placeholders(target.masterAddrs, [], [], target.dir);
  }

  refreshPlaceholders(): void {
    const t = this.target;
    this.holders = placeholders(t.masterAddrs, t.nodes?.meta ?? [], t.nodes?.data ?? [], t.dir);
  }

  async refreshUsers(): Promise<void> {
    try {
      const list = (await cfsData<UserInfo[] | null>(this.target.masterAddrs[0], '/user/list?keywords=')) ?? [];
      for (const u of list) this.users.set(u.user_id, { user: u.user_id, ak: u.access_key, sk: u.secret_key });
      this.userListError = '';
    } catch (error) {
      this.userListError = (error as Error).message;
    }
  }

  /** Placeholders in a case argument, resolved against this target. */
  async resolve(arg: string): Promise<string> {
    const master = this.target.masterAddrs[0];
    let out = arg;
    for (const m of arg.matchAll(/\{(mp|dp|nodeset):(?:([^:}]+):)?(\d+)\}/g)) {
      const [whole, kind, vol, index] = m;
      let ids: number[];
      if (kind === 'mp') ids = (await cfsData<MetaPartitionView[] | null>(master, `/client/metaPartitions?name=${vol}`) ?? []).map((p) => p.PartitionID);
      else if (kind === 'dp') ids = ((await cfsData<DataPartitionsView>(master, `/client/partitions?name=${vol}`)).DataPartitions ?? []).map((p) => p.PartitionID);
      else ids = ((await cfsData<{ ID: number }[] | null>(master, '/nodeSet/list')) ?? []).map((n) => n.ID);
      ids.sort((a, b) => a - b);
      const id = ids[Number(index)];
      if (id === undefined) throw new Error(`${whole}: only ${ids.length} ids (${ids.join(',')})`);
      out = out.replace(whole, String(id));
    }
    for (const [name, value] of this.holders.values) out = out.split(name).join(value);
    if (/\{[A-Za-z]+\d*\}/.test(out)) throw new Error(`unresolved placeholder in "${out}" (nodes known: ${[...this.holders.values.keys()].join(' ')})`);
    return out;
  }
}

export interface RunnerOptions {
  readonly bins: CubefsBinaries;
  readonly reference: Target;
  /** Targets compared with the reference (none in the self-check mode). */
  readonly others: readonly Target[];
  readonly partitionWaitMs: { readonly reference: number; readonly other: number };
}

export class Runner {
  readonly results: CaseResult[] = [];
  readonly setupNotes: string[] = [];
  private readonly states = new Map<Target, TargetState>();

  constructor(private readonly options: RunnerOptions) {
    for (const t of [options.reference, ...options.others]) this.states.set(t, new TargetState(t));
  }

  get targets(): Target[] {
    return [this.options.reference, ...this.options.others];
  }

  /** Runs a setup step on every target; returns the problems, reference first. */
  async setup(step: SetupStep): Promise<{ reference: string[]; others: string[] }> {
    const problems = await Promise.all(
      this.targets.map(async (t): Promise<string[]> => {
        const before = t.notes.length;
        const isRef = t === this.options.reference;
        try {
          if (step.action.do === 'startNodes') {
            await t.startNodes();
            this.states.get(t)!.refreshPlaceholders();
          } else {
            const timeout = isRef ? this.options.partitionWaitMs.reference : this.options.partitionWaitMs.other;
            // Every master lists every partition (a Go follower answers from its follower cache,
            // refreshed in the background), and some master's view has every leader (a Go
            // follower's cache names none) and no meta partition Unavailable, and no master lists
            // a data partition ReadOnly (cfs-cli asks a random master for them): a metanode
            // reports a new partition Unavailable until its raft group has a leader, the Go master
            // lists a new data partition ReadOnly until a datanode report says otherwise, and it
            // keeps either status until its periodic checkStatus reads a later report, where
            // cubemaster shows the latest report at once.
            for (const vol of step.action.vols) {
              await waitFor(`the partitions of ${vol} on ${t.label} to be listed and have leaders`, timeout, async () => {
                const views = await Promise.all(
                  t.masterAddrs.map(async (master) => {
                    const vv = await cfsData<{ MpCnt: number; DpCnt: number }>(master, `/admin/getVol?name=${vol}`);
                    const mps = (await cfsData<MetaPartitionView[] | null>(master, `/client/metaPartitions?name=${vol}`)) ?? [];
                    const dps = (await cfsData<DataPartitionsView>(master, `/client/partitions?name=${vol}`)).DataPartitions ?? [];
                    const unavailable = mps.filter((p) => p.Status === UNAVAILABLE).length;
                    const readOnly = dps.filter((p) => p.Status === READ_ONLY).length;
                    return { master, vv, mps: mps.length, dps: dps.length, leaderless: [...mps, ...dps].filter((p) => p.LeaderAddr === '').length, unavailable, readOnly };
                  }),
                );
                if (views.every((v) => v.mps === v.vv.MpCnt && v.dps === v.vv.DpCnt && v.readOnly === 0) && views.some((v) => v.leaderless === 0 && v.unavailable === 0)) return true;
                // Not settled yet: the message is what the timeout error reports.
                throw new Error(views.map((v) => `${v.master}: getVol MpCnt ${v.vv.MpCnt} DpCnt ${v.vv.DpCnt}; listed ${v.mps} mps, ${v.dps} dps; ${v.leaderless} without a leader, ${v.unavailable} mps unavailable, ${v.readOnly} dps read-only`).join('; '));
              });
            }
          }
        } catch (error) {
          t.notes.push(`${step.name}: ${(error as Error).message}`);
        }
        const mine = t.notes.slice(before).map((n) => `${t.label}: ${n}`);
        this.setupNotes.push(...mine);
        return mine;
      }),
    );
    return { reference: problems[0], others: problems.slice(1).flat() };
  }

  async run(step: CliCase): Promise<CaseResult> {
    const runs = new Map<string, TargetRun>();
    await Promise.all(
      this.targets.map(async (t) => {
        const state = this.states.get(t)!;
        let argv: string[] = [...step.args];
        let raw: CliResult;
        try {
          argv = await Promise.all(step.args.map((a) => state.resolve(a)));
          raw = await runCli(this.options.bins.cli, t.cliHome, argv, step.stdin ?? '');
        } catch (error) {
          raw = { code: -1, stdout: '', stderr: `harness: ${(error as Error).message}`, ms: 0 };
        }
        await state.refreshUsers();
        const masks: Mask[] = [...(step.masks ?? []), ...knownDifferencesFor(step.name).flatMap((d) => d.masks)];
        if (state.userListError !== '') masks.push(maskLabel('Access Key', 'user list failed'), maskLabel('Secret Key', 'user list failed'));
        const substitutions = [...keySubstitutions(state.users.values(), EXPLICIT_KEYS), ...state.holders.substitutions];
        const norm = (text: string): string => normalize(text, { substitutions, masks, sortRowsAfter: step.sortRowsAfter });
        runs.set(t.label, { argv, raw, norm: { code: raw.code, stdout: norm(raw.stdout), stderr: norm(raw.stderr) } });
      }),
    );
    const ref = runs.get(this.options.reference.label)!;
    const selfCheck: string[] = [];
    if (ref.raw.code === -1) selfCheck.push(`the reference run failed: ${ref.raw.stderr}`);
    else if ((step.expect === 'ok') !== (ref.raw.code === 0)) selfCheck.push(`the reference exited ${ref.raw.code}, the case expects ${step.expect}`);
    if (ref.raw.stdout.trim() === '' && ref.raw.stderr.trim() === '') selfCheck.push('the reference printed nothing');
    const verdicts = new Map<string, Verdict>();
    for (const t of this.options.others) verdicts.set(t.label, compareResults(this.options.reference.label, ref.norm, t.label, runs.get(t.label)!.norm));
    const result: CaseResult = { step, runs, verdicts, selfCheck: selfCheck.join('; ') };
    this.results.push(result);
    return result;
  }

  /** The readable account of one case: what ran, and the diff when it differs. */
  describe(result: CaseResult, verbose: boolean): string {
    const lines = [`case: ${result.step.name}`];
    for (const [label, r] of result.runs) lines.push(`  ${label}: cfs-cli ${r.argv.join(' ')}  -> exit ${r.raw.code} (${r.raw.ms} ms)`);
    if (result.selfCheck !== '') lines.push(`  reference self-check: ${result.selfCheck}`);
    for (const [label, v] of result.verdicts) {
      if (v.match) continue;
      lines.push(`  ${label} differs: ${v.reason}`, v.diff);
    }
    const differs = [...result.verdicts.values()].some((v) => !v.match);
    if (verbose || differs || result.selfCheck !== '') {
      for (const [label, r] of result.runs) {
        lines.push(`  --- ${label} normalized stdout:`, ...r.norm.stdout.split('\n').map((l) => `    | ${l}`));
        if (r.norm.stderr !== '') lines.push(`  --- ${label} normalized stderr:`, ...r.norm.stderr.split('\n').map((l) => `    | ${l}`));
      }
    }
    lines.push(`  logs: ${this.targets.map((t) => `${t.label}: ${t.logPaths().join(', ')}`).join('; ')}`);
    return lines.join('\n');
  }

  summary(): string {
    const others = this.options.others.map((t) => t.label);
    const headers = ['#', 'case', this.options.reference.label, ...others.flatMap((o) => [o, 'match'])];
    const rows = this.results.map((r, i) => {
      const cells = [String(i + 1), r.step.name, summarize(r.runs.get(this.options.reference.label)!.norm) + (r.selfCheck === '' ? '' : ' [SELF-CHECK]')];
      for (const o of others) {
        const v = r.verdicts.get(o)!;
        cells.push(summarize(r.runs.get(o)!.norm), v.match ? 'yes' : `NO: ${v.reason.length > 70 ? `${v.reason.slice(0, 69)}…` : v.reason}`);
      }
      return cells;
    });
    const matched = others.map((o) => `${o}: ${this.results.filter((r) => r.verdicts.get(o)!.match).length}/${this.results.length} match`);
    const selfOk = this.results.filter((r) => r.selfCheck === '').length;
    return [
      table(headers, rows),
      '',
      `reference self-check: ${selfOk}/${this.results.length} as expected${matched.length > 0 ? `; ${matched.join('; ')}` : ''}`,
      ...(this.setupNotes.length > 0 ? ['setup problems:', ...this.setupNotes.map((n) => `  - ${n}`)] : []),
    ].join('\n');
  }

  writeReport(file: string, verbose: boolean): void {
    const body = [`# cfs-cli comparison (${new Date().toISOString()})`, '', '```', this.summary(), '```', '', ...this.results.map((r) => ['```', this.describe(r, verbose), '```', ''].join('\n'))].join('\n');
    writeFileSync(file, body);
  }
}
