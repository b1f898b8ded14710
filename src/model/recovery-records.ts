// The stored form of `#recovery#state` (recovery-state.ts): JSON with a fixed field order, like
// every record (records.ts), and the shape decoders its commands share (params, findings,
// summary): one reader per shape, used by the record codec and the command codec alike.

import type { Obj } from './shape.js';
import { asObject, expectKeys, readArray, readInt, readObjectArray, readOneOf, readString } from './shape.js';
import { CodecError } from './errors.js';
import type {
  RecoveryFinding,
  RecoveryNodeIdHint,
  RecoveryNodeTarget,
  RecoveryParams,
  RecoveryRecord,
  RecoverySummary,
} from './recovery-state.js';
import { RECOVERY_FINDING_KINDS, RECOVERY_FINDINGS_MAX, RECOVERY_NODES_MAX, RECOVERY_SUMMARY_KEYS } from './recovery-state.js';

const MAX_ID = Number.MAX_SAFE_INTEGER;
const TARGET_KINDS = ['meta', 'data', 'any'] as const;
const PHASES = ['collecting', 'done'] as const;

export function recoveryParamsToJson(p: RecoveryParams): object {
  return {
    nodes: p.nodes.map((n) => ({ kind: n.kind, addr: n.addr })),
    collectTimeoutMs: p.collectTimeoutMs,
    idMargin: p.idMargin,
    nodeIdHints: p.nodeIdHints.map((h) => ({ addr: h.addr, id: h.id })),
  };
}

export function readRecoveryParams(v: unknown, path: string): RecoveryParams {
  const o = asObject(v, path);
  expectKeys(o, ['nodes', 'collectTimeoutMs', 'idMargin', 'nodeIdHints'], path);
  const nodes = readObjectArray(o, 'nodes', (n, at): RecoveryNodeTarget => {
    expectKeys(n, ['kind', 'addr'], at);
    return { kind: readOneOf(n, 'kind', TARGET_KINDS, at), addr: readString(n, 'addr', at) };
  }, path);
  const nodeIdHints = readObjectArray(o, 'nodeIdHints', (h, at): RecoveryNodeIdHint => {
    expectKeys(h, ['addr', 'id'], at);
    return { addr: readString(h, 'addr', at), id: readInt(h, 'id', 1, MAX_ID, at) };
  }, path);
  if (nodes.length > RECOVERY_NODES_MAX) throw new CodecError(`${path}.nodes`, 'too many nodes');
  if (nodeIdHints.length > RECOVERY_NODES_MAX) throw new CodecError(`${path}.nodeIdHints`, 'too many hints');
  return {
    nodes,
    collectTimeoutMs: readInt(o, 'collectTimeoutMs', 0, MAX_ID, path),
    idMargin: readInt(o, 'idMargin', 0, MAX_ID, path),
    nodeIdHints,
  };
}

export function recoverySummaryToJson(s: RecoverySummary): object {
  return Object.fromEntries(RECOVERY_SUMMARY_KEYS.map((k) => [k, s[k]]));
}

export function readRecoverySummary(v: unknown, path: string): RecoverySummary {
  const o = asObject(v, path);
  expectKeys(o, RECOVERY_SUMMARY_KEYS, path);
  return Object.fromEntries(RECOVERY_SUMMARY_KEYS.map((k) => [k, readInt(o, k, 0, MAX_ID, path)])) as unknown as RecoverySummary;
}

export function recoveryFindingsToJson(findings: readonly RecoveryFinding[]): object[] {
  return findings.map((f) => ({ kind: f.kind, subject: f.subject, detail: f.detail, rule: f.rule }));
}

export function readRecoveryFindings(o: Obj, field: string, path: string): RecoveryFinding[] {
  if (readArray(o, field, path).length > RECOVERY_FINDINGS_MAX) throw new CodecError(path === '' ? field : `${path}.${field}`, 'too many findings');
  return readObjectArray(o, field, (f, at): RecoveryFinding => {
    expectKeys(f, ['kind', 'subject', 'detail', 'rule'], at);
    return {
      kind: readOneOf(f, 'kind', RECOVERY_FINDING_KINDS, at),
      subject: readString(f, 'subject', at),
      detail: readString(f, 'detail', at),
      rule: readString(f, 'rule', at),
    };
  }, path);
}

const RECORD_FIELDS = [
  'v',
  'round',
  'phase',
  'params',
  'beganAtUnixSec',
  'finishedAtUnixSec',
  'preLossIds',
  'summary',
  'findings',
  'findingsOmitted',
];

export function recoveryRecordToJson(r: RecoveryRecord, version: number): object {
  return {
    v: version,
    round: r.round,
    phase: r.phase,
    params: recoveryParamsToJson(r.params),
    beganAtUnixSec: r.beganAtUnixSec,
    finishedAtUnixSec: r.finishedAtUnixSec,
    preLossIds: { metaPartition: r.preLossIds.metaPartition, dataPartition: r.preLossIds.dataPartition },
    summary: recoverySummaryToJson(r.summary),
    findings: recoveryFindingsToJson(r.findings),
    findingsOmitted: r.findingsOmitted,
  };
}

export function recoveryRecordFromJson(o: Obj, path: string): RecoveryRecord {
  expectKeys(o, RECORD_FIELDS, path);
  const ids = asObject(o['preLossIds'], `${path}.preLossIds`);
  expectKeys(ids, ['metaPartition', 'dataPartition'], `${path}.preLossIds`);
  return {
    round: readInt(o, 'round', 1, MAX_ID, path),
    phase: readOneOf(o, 'phase', PHASES, path),
    params: readRecoveryParams(o['params'], `${path}.params`),
    beganAtUnixSec: readInt(o, 'beganAtUnixSec', 0, MAX_ID, path),
    finishedAtUnixSec: readInt(o, 'finishedAtUnixSec', 0, MAX_ID, path),
    preLossIds: {
      metaPartition: readInt(ids, 'metaPartition', 0, MAX_ID, `${path}.preLossIds`),
      dataPartition: readInt(ids, 'dataPartition', 0, MAX_ID, `${path}.preLossIds`),
    },
    summary: readRecoverySummary(o['summary'], `${path}.summary`),
    findings: readRecoveryFindings(o, 'findings', path),
    findingsOmitted: readInt(o, 'findingsOmitted', 0, MAX_ID, path),
  };
}
