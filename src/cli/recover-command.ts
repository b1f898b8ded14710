// `cubemaster recover`: after every master was lost, start a NEW master that rebuilds the
// cluster from its meta and data nodes (docs/recovery.md). It is `server` with a recovery round
// asked for: the round collects the nodes' reports, adopts nodes, vols and partitions through
// Raft, and this process writes the report (JSON and a human summary) when the round finished,
// then goes on as an ordinary master (restart it with `server` whenever you like).
//
// It refuses a non-empty walDir or storeDir unless --force: on a cluster that already finished
// a recovery, --force opens another round, which adopts only what is still missing.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'lossless-json';
import type { Logger } from 'pino';
import type { RecoveryRequest } from '../cluster/recovery/recovery-service.js';
import { buildRecoveryReport, recoveryReportText } from '../cluster/recovery/report.js';
import type { RecoveryNodeIdHint, RecoveryNodeTarget } from '../model/index.js';
import { checkNodeAddr, RECOVERY_NODES_MAX } from '../model/index.js';
import { loadConfig } from '../server/config.js';
import type { Master } from '../server/master.js';
import { runMaster } from './server-command.js';

export interface RecoverFlags {
  readonly config?: string;
  readonly nodes?: string;
  readonly nodeIds?: string;
  readonly report?: string;
  readonly collectTimeoutMs?: string;
  readonly idMargin?: string;
  readonly force?: boolean;
  readonly logLevel?: string;
}

export const DEFAULT_COLLECT_TIMEOUT_MS = 120_000;
export const DEFAULT_ID_MARGIN = 10_000;
/** How often the report writer looks at the model for the round's end. */
const REPORT_POLL_MS = 500;

/** An operator mistake in the flags: printed, exit code 2, nothing started. */
export class RecoverUsageError extends Error {}

function intFlag(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new RecoverUsageError(`--${name} must be an integer in [0, ${max}], got ${JSON.stringify(text)}`);
  return n;
}

/** `meta:ip:port`, `data:ip:port` or `ip:port` (kind asked of the node), comma-separated. */
export function parseNodeTargets(text: string | undefined): RecoveryNodeTarget[] {
  const out: RecoveryNodeTarget[] = [];
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const kind = entry.startsWith('meta:') ? 'meta' : entry.startsWith('data:') ? 'data' : 'any';
    const addr = kind === 'any' ? entry : entry.slice(5);
    try {
      checkNodeAddr(addr, 'nodes');
    } catch {
      throw new RecoverUsageError(`--nodes: "${entry}" is not [meta:|data:]ip:port`);
    }
    out.push({ kind, addr });
  }
  if (out.length > RECOVERY_NODES_MAX) throw new RecoverUsageError(`--nodes: more than ${RECOVERY_NODES_MAX} addresses`);
  return out;
}

/** `ip:port=id,...`, or `@file` holding a JSON object {"ip:port": id, ...}. */
export function parseNodeIdHints(text: string | undefined): RecoveryNodeIdHint[] {
  if (text === undefined || text === '') return [];
  let pairs: [string, unknown][];
  if (text.startsWith('@')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(text.slice(1), 'utf8')) as unknown;
    } catch (e) {
      throw new RecoverUsageError(`--node-ids: cannot read ${text.slice(1)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RecoverUsageError('--node-ids: the file must hold a JSON object {"ip:port": id}');
    pairs = Object.entries(parsed);
  } else {
    pairs = text.split(',').map((e) => e.trim()).filter(Boolean).map((e) => {
      const eq = e.lastIndexOf('=');
      return [e.slice(0, eq < 0 ? e.length : eq), eq < 0 ? NaN : Number(e.slice(eq + 1))];
    });
  }
  return pairs.map(([addr, id]) => {
    try {
      checkNodeAddr(addr, 'node-ids');
    } catch {
      throw new RecoverUsageError(`--node-ids: "${addr}" is not ip:port`);
    }
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new RecoverUsageError(`--node-ids: the id of ${addr} must be a positive integer`);
    return { addr, id };
  });
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

export async function runRecover(flags: RecoverFlags): Promise<void> {
  const config = loadConfig(flags.config, { logLevel: flags.logLevel });
  const used = !isEmptyDir(config.walDir) || !isEmptyDir(config.storeDir);
  if (used && flags.force !== true) {
    throw new RecoverUsageError(
      `walDir ${config.walDir} or storeDir ${config.storeDir} is not empty: recover starts a new cluster. Point them at empty directories, or give --force to run another recovery round on this cluster`,
    );
  }
  const nodes = parseNodeTargets(flags.nodes);
  const hints = parseNodeIdHints(flags.nodeIds);
  // Running nodes report only when a master asks them: without an address there is no one to ask.
  if (nodes.length === 0 && hints.length === 0) throw new RecoverUsageError('--nodes: give the address of at least one meta node and one data node ([meta:|data:]ip:port,...)');
  const request: RecoveryRequest = {
    params: {
      nodes,
      collectTimeoutMs: intFlag('collect-timeout-ms', flags.collectTimeoutMs, DEFAULT_COLLECT_TIMEOUT_MS, 86_400_000),
      idMargin: intFlag('id-margin', flags.idMargin, DEFAULT_ID_MARGIN, 1_000_000_000),
      nodeIdHints: hints,
    },
    newRound: used,
  };
  const reportPath = path.resolve(flags.report ?? path.join(path.dirname(config.storeDir), 'recovery-report.json'));
  await runMaster(config, { recovery: request, onStarted: (master, logger) => watchForReport(master, logger, reportPath) });
}

/**
 * Writes the report once the model shows a round this process did not see at start finished
 * (any member may have run it). Returns the stop of the watch.
 */
function watchForReport(master: Master, logger: Logger, reportPath: string): () => void {
  const atStart = master.fsm.view.recovery;
  // The last round finished before this process: a round past it finishing is this one's.
  const finishedBefore = atStart === null ? 0 : atStart.phase === 'done' ? atStart.round : atStart.round - 1;
  const textPath = reportPath.endsWith('.json') ? `${reportPath.slice(0, -'.json'.length)}.txt` : `${reportPath}.txt`;
  logger.info({ report: reportPath, text: textPath }, 'recovery asked for: the report is written when the round finished');
  const timer = setInterval(() => {
    const record = master.fsm.view.recovery;
    if (record === null || record.phase !== 'done' || record.round <= finishedBefore) return;
    clearInterval(timer);
    const report = buildRecoveryReport(master.fsm.view);
    if (report === null) return;
    try {
      writeFileSync(reportPath, `${stringify(report, undefined, 2) ?? 'null'}\n`);
      writeFileSync(textPath, recoveryReportText(report));
      logger.info({ report: reportPath, text: textPath, round: report.round, ...report.summary }, 'recovery report written');
    } catch (err) {
      logger.error({ err, report: reportPath }, 'cannot write the recovery report (GET /cubemaster/recovery serves it)');
    }
  }, REPORT_POLL_MS);
  return () => clearInterval(timer);
}
