// Per-report cost in one process, for `npm run bench:heartbeats`: a data node heartbeat report
// of N partitions (and a meta node report) as the nodes POST it, parsed with the route's parser
// (parseNodeResponse, 64-bit exact) and applied to a model holding the node (applyDataHeartbeat /
// applyMetaHeartbeat, src/cluster/heartbeats.ts), each timed over many rounds; the median of 5.
// Usable on its own: node heartbeat-storm-apply.js
import { pathToFileURL } from 'node:url';
import { applyDataHeartbeat, applyMetaHeartbeat } from '../src/cluster/heartbeats.js';
import { parseNodeResponse } from '../src/nodes/heartbeat-report.js';
import { Opcode } from '../src/nodes/opcodes.js';
import { stringifyJson } from '../src/util/json.js';
import { bootstrapped, dataNodeAddCmd, metaNodeAddCmd, ok } from '../test/model/helpers.js';

const TIB = 1n << 40n;
const DATA_ADDR = '127.0.0.1:17310';
const META_ADDR = '127.0.0.1:17210';

function task(opCode: number, addr: string, request: unknown, response: unknown): string {
  return stringifyJson({ ID: `addr[${addr}]_op[${opCode}]`, PartitionID: 0, Disk: '', OpCode: opCode, OperatorAddr: addr, Status: 0, SendTime: 1, CreateTime: 1, SendCount: 1, Request: request, Response: response, RequestID: 'bench' });
}

const peers = [1, 2, 3].map((i) => ({ ID: i, Addr: `127.0.0.${i}:17310`, HeartbeatPort: '17330', ReplicaPort: '17331', IsLearner: false }));

/** A DataNodeHeartbeatResponse with `n` partitions (first id `firstId`), as the sim datanode sends it. */
export function dataReportBody(n: number, firstId = 1000): string {
  const reports = Array.from({ length: n }, (_, i) => ({
    VolName: `vol${i % 10}`,
    PartitionID: firstId + i,
    PartitionStatus: 2,
    Total: 120n << 30n,
    Used: 12_345_678n,
    DiskPath: `/sim/disk${i % 2}`,
    IsLeader: i % 3 === 0,
    ExtentCount: 64,
    NeedCompare: true,
    DecommissionRepairProgress: 0,
    LocalPeers: peers,
    TriggerDiskError: false,
    ForbidWriteOpOfProtoVer0: false,
    ReadOnlyReasons: 0,
    IsMissingTinyExtent: false,
    IsRepairing: false,
  }));
  const disks = [0, 1].map((d) => ({ Status: 2, DiskPath: `/sim/disk${d}`, Total: 64n * TIB, Used: 1n << 30n, Available: 64n * TIB - (1n << 30n), IOUtil: 0, TotalPartitionCnt: Math.ceil(n / 2), DiskErrPartitionList: [] }));
  const response = {
    Total: 128n * TIB,
    Used: 2n << 30n,
    Available: 128n * TIB - (2n << 30n),
    TotalPartitionSize: BigInt(n) * (120n << 30n),
    RemainingCapacity: 100n * TIB,
    CreatedPartitionCnt: n,
    MaxCapacity: 100n * TIB,
    StartTime: 1_764_000_000,
    ZoneName: 'default',
    PartitionReports: reports,
    Status: 1,
    Result: '',
    AllDisks: ['/sim/disk0', '/sim/disk1'],
    DiskStats: disks,
    BadDisks: [],
    BadDiskStats: [],
    LostDisks: [],
    cpuUtil: 0.5,
    ioUtil: {},
    BackupDataPartitions: null,
    DiskOpLog: [],
    DpOpLog: [],
    ReceivedForbidWriteOpOfProtoVer0: false,
  };
  const request = { CurrTime: 1_764_000_000, DirectReadVols: [], IgnoreTinyRecoverVols: [], MasterAddr: '127.0.85.1:17010', VolsForbidWriteOpOfProtoVer0: [] };
  return task(Opcode.DataNodeHeartbeat, DATA_ADDR, request, response);
}

/** A MetaNodeHeartbeatResponse with `n` partitions, the last one open-ended (End 2^63-1). */
export function metaReportBody(n: number): string {
  const reports = Array.from({ length: n }, (_, i) => ({
    PartitionID: 10 + i,
    Start: BigInt(i) * 1_000_000n,
    End: i === n - 1 ? (1n << 63n) - 1n : BigInt(i + 1) * 1_000_000n - 1n,
    Status: 2,
    Size: 0,
    MaxInodeID: BigInt(i) * 1_000_000n + 5n,
    IsLeader: i % 3 === 0,
    VolName: `vol${i % 10}`,
    InodeCnt: 5,
    DentryCnt: 4,
    TxCnt: 0,
    TxRbInoCnt: 0,
    TxRbDenCnt: 0,
    FreeListLen: 0,
    ForbidWriteOpOfProtoVer0: false,
    UidInfo: null,
    QuotaReportInfos: null,
    StatByStorageClass: null,
    StatByMigrateStorageClass: null,
    LocalPeers: peers,
    ReadOnlyReasons: 0,
  }));
  const response = { ZoneName: '', Total: 4n << 30n, Used: 100n << 20n, NodeMemTotal: 4n << 30n, NodeMemUsed: 100n << 20n, MetaPartitionReports: reports, Status: 1, Result: '', cpuUtil: 0.5, ReceivedForbidWriteOpOfProtoVer0: false };
  return task(Opcode.MetaNodeHeartbeat, META_ADDR, null, response);
}

export interface ReportCost {
  readonly label: string;
  readonly bodyBytes: number;
  readonly parseUs: number;
  readonly applyUs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Mean µs per call over `rounds`, the median of 5 such runs (after a warm-up). */
function timeUs(rounds: number, f: (i: number) => void): number {
  for (let i = 0; i < Math.min(rounds, 200); i++) f(i);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < rounds; i++) f(i);
    runs.push(((performance.now() - t) * 1000) / rounds);
  }
  return median(runs);
}

/** Parse and apply costs for reports of the given sizes (data) and one meta node report. */
export function reportCosts(dataPartitions: readonly number[] = [7, 300], metaPartitions = 3): ReportCost[] {
  const state = bootstrapped();
  ok(state, dataNodeAddCmd(DATA_ADDR));
  ok(state, metaNodeAddCmd(META_ADDR));
  const out: ReportCost[] = [];
  for (const n of dataPartitions) {
    const body = Buffer.from(dataReportBody(n));
    // Two reports alternate: the same partitions, and one of them moved (dropped, another added).
    const bodies = [body, Buffer.from(dataReportBody(n, 1001))];
    const reports = bodies.map((b) => {
      const r = parseNodeResponse('dataNode', b);
      if (r.kind !== 'dataHeartbeat') throw new Error('not a data heartbeat');
      return r.report;
    });
    const rounds = Math.max(20, Math.floor(200_000 / Math.max(1, n * 20)));
    const parseUs = timeUs(rounds, () => parseNodeResponse('dataNode', body));
    const steadyUs = timeUs(rounds * 4, () => applyDataHeartbeat(state, DATA_ADDR, reports[0], { wallMs: 1, monoMs: 1 }, 'localhost:17310'));
    const movingUs = timeUs(rounds * 4, (i) => applyDataHeartbeat(state, DATA_ADDR, reports[i % 2], { wallMs: 1, monoMs: 1 }, 'localhost:17310'));
    out.push({ label: `data node, ${n} partitions`, bodyBytes: body.length, parseUs, applyUs: steadyUs });
    out.push({ label: `  1 partition moved`, bodyBytes: body.length, parseUs, applyUs: movingUs });
  }
  const meta = Buffer.from(metaReportBody(metaPartitions));
  const parsed = parseNodeResponse('metaNode', meta);
  if (parsed.kind !== 'metaHeartbeat') throw new Error('not a meta heartbeat');
  const parseUs = timeUs(2000, () => parseNodeResponse('metaNode', meta));
  const applyUs = timeUs(8000, () => applyMetaHeartbeat(state, META_ADDR, parsed.report, { wallMs: 1, monoMs: 1 }, 'localhost:17210'));
  out.push({ label: `meta node, ${metaPartitions} partitions`, bodyBytes: meta.length, parseUs, applyUs });
  return out;
}

export function printReportCosts(rows: readonly ReportCost[]): void {
  console.log('one report in-process     | body bytes | parse us | apply us | apply share');
  for (const r of rows) {
    console.log(`${r.label.padEnd(25)} | ${String(r.bodyBytes).padStart(10)} | ${r.parseUs.toFixed(1).padStart(8)} | ${r.applyUs.toFixed(1).padStart(8)} | ${((100 * r.applyUs) / (r.applyUs + r.parseUs)).toFixed(0).padStart(10)}%`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) printReportCosts(reportCosts());
