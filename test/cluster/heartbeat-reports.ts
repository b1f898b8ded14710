// Node heartbeat reports in the shape the nodes send (src/nodes/heartbeat-report.ts), for the
// unit tests that feed reports to the master's code: a node with 4 GiB of memory (meta) or
// 1 TiB of free space (data) reporting the partitions given.
import type { DataNodeHeartbeatReport, DataPartitionReport, MetaNodeHeartbeatReport, MetaPartitionReport } from '../../src/nodes/heartbeat-report.js';

export function metaReport(partitions: MetaPartitionReport[] = [], zoneName = ''): MetaNodeHeartbeatReport {
  return { zoneName, total: 4n << 30n, used: 1n << 20n, ratio: 0, nodeMemTotal: 0n, nodeMemUsed: 0n, cpuUtil: 0, status: 1, result: '', receivedForbidWriteOpOfProtoVer0: false, metaPartitions: partitions };
}

export function dataReport(partitions: DataPartitionReport[] = [], zoneName = 'default'): DataNodeHeartbeatReport {
  return {
    total: 1n << 40n,
    used: 0n,
    available: 1n << 40n,
    totalPartitionSize: 0n,
    remainingCapacity: 0n,
    createdPartitionCount: partitions.length,
    maxCapacity: 0n,
    startTimeSec: 0n,
    zoneName,
    status: 1,
    result: '',
    dataPartitions: partitions,
    allDisks: [],
    diskStats: [],
    badDisks: [],
    lostDisks: [],
    cpuUtil: 0,
    receivedForbidWriteOpOfProtoVer0: false,
  };
}
