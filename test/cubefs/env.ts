// Where the reference binaries are and which knobs the environment sets. The suite is opt-in
// (`npm run test:cubefs`); without the binaries it skips and names the build script.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const BUILD_HINT =
  'build them with `../shared/tools/build-cubefs-ref.sh /work/.mirror/cubefs+cubefs/repo` (from /work/main; several minutes, idempotent), or point CUBEFS_REF_DIR at a directory holding cfs-server and cfs-cli';

export interface CubefsBinaries {
  readonly dir: string;
  readonly server: string;
  readonly cli: string;
}

/** The reference binaries, or the reason they cannot be used. */
export function findBinaries(): { ok: true; bins: CubefsBinaries } | { ok: false; reason: string } {
  const dir = process.env.CUBEFS_REF_DIR ?? path.join(homedir(), 'cubefs-ref');
  const bins = { dir, server: path.join(dir, 'cfs-server'), cli: path.join(dir, 'cfs-cli') };
  for (const file of [bins.server, bins.cli]) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      return { ok: false, reason: `${file} is missing or not executable: ${BUILD_HINT}` };
    }
  }
  return { ok: true, bins };
}

export type TargetKind = 'go' | 'cubemaster';
export type NodeProviderName = 'go' | 'sim' | 'none';

export interface SuiteOptions {
  /**
   * CUBEFS_TARGETS: the reference first, then the targets compared with it: `go,cubemaster`
   * (default), `go` (self-check of the cases against the reference only) or `go,go` (two
   * independent Go runs: whatever differs there is volatile and needs normalizing).
   */
  readonly targets: readonly TargetKind[];
  /** CUBEFS_CM_NODES: the meta/data nodes given to cubemaster: real Go nodes (default), src/nodes/sim, or none. */
  readonly cubemasterNodes: NodeProviderName;
  /** CUBEFS_KEEP=1 keeps the temp dirs (logs, data) after a green run too. */
  readonly keep: boolean;
  /** CUBEFS_CASES: a substring or regex; only matching cases (plus every setup step) run. */
  readonly caseFilter: RegExp | null;
  /** CUBEFS_VERBOSE=1 prints every case's normalized output, not only the differing ones. */
  readonly verbose: boolean;
}

export function suiteOptions(): SuiteOptions {
  const targetsText = process.env.CUBEFS_TARGETS ?? 'go,cubemaster';
  const targets = targetsText
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const t of targets) if (t !== 'go' && t !== 'cubemaster') throw new Error(`CUBEFS_TARGETS: unknown target "${t}" (go, cubemaster)`);
  if (targets[0] !== 'go') throw new Error('CUBEFS_TARGETS must start with "go": the Go master is the reference');
  const nodes = process.env.CUBEFS_CM_NODES ?? 'go';
  if (nodes !== 'go' && nodes !== 'sim' && nodes !== 'none') throw new Error(`CUBEFS_CM_NODES: unknown provider "${nodes}" (go, sim, none)`);
  const filter = process.env.CUBEFS_CASES;
  return {
    targets: targets as TargetKind[],
    cubemasterNodes: nodes,
    keep: process.env.CUBEFS_KEEP === '1',
    caseFilter: filter === undefined || filter === '' ? null : new RegExp(filter),
    verbose: process.env.CUBEFS_VERBOSE === '1',
  };
}
