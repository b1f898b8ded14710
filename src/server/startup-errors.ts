// Why a master could not start, in words an operator at 3 a.m. can act on: which port, file or
// directory, which config key or flag to change, and what cubemaster offers to recover. The
// server command prints this on stderr (and logs it) before exiting with code 1.
import { DirLockedError } from '../storage/dir-lock.js';
import { SegmentCorruptError } from '../storage/errors.js';
import type { MasterConfig } from './config.js';

export interface StartupProblem {
  /** What went wrong, naming the port, file or directory. */
  readonly problem: string;
  /** What to do about it. */
  readonly todo: string;
}

export function explainStartupError(error: unknown, config: MasterConfig): StartupProblem | null {
  if (error instanceof DirLockedError) {
    return {
      problem: error.message,
      todo: `find it with \`ps -p ${error.holderPid} -o pid,args\`; stop it (SIGTERM) before starting another master on ${config.walDir}`,
    };
  }
  if (error instanceof SegmentCorruptError) return corruptLog(error, config);
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL' || (e.code === 'EACCES' && e.syscall === 'listen')) return portProblem(e, config);
  if (e.syscall !== undefined && typeof e.path === 'string' && ['EACCES', 'EPERM', 'ENOTDIR', 'EEXIST', 'EROFS', 'ENOSPC', 'EISDIR'].includes(e.code ?? '')) {
    return dirProblem(e, config);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/state store is inconsistent|behind the compacted log/.test(message)) {
    return {
      problem: `the state in storeDir ${config.storeDir} does not match the Raft log in walDir ${config.walDir}: ${message}`,
      todo: recoverySteps(config),
    };
  }
  return null;
}

function portProblem(e: NodeJS.ErrnoException & { address?: string; port?: number }, config: MasterConfig): StartupProblem {
  const self = config.peers.find((p) => p.id === config.id);
  const raftPort = config.raftListenPort ?? self?.raftPort;
  const isHttp = e.port === config.listen && e.port !== raftPort;
  const where = `${e.address ?? (isHttp ? '0.0.0.0' : config.ip)}:${e.port ?? '?'}`;
  const key = isHttp
    ? 'config key "listen" (flag --listen)'
    : `config key "replicaPort" (flag --replica-port), the 4th field of member ${config.id}'s "peers" entry, or "raftListenPort"`;
  const what = isHttp ? 'HTTP' : 'Raft';
  if (e.code === 'EADDRINUSE') {
    return {
      problem: `the ${what} port ${where} is already in use`,
      todo: `another process listens there: find it with \`ss -ltnp 'sport = :${e.port}'\` (or \`lsof -i :${e.port}\`), stop it, or change ${key}`,
    };
  }
  return {
    problem: `cannot listen on ${what} address ${where} (${e.code})`,
    todo:
      e.code === 'EADDRNOTAVAIL'
        ? `no interface of this host has that address: check config key "ip" (flag --ip)${isHttp ? ' and "bindIp"' : ''}`
        : `ports <= 1024 need privileges: change ${key}`,
  };
}

function dirProblem(e: NodeJS.ErrnoException, config: MasterConfig): StartupProblem {
  const p = e.path ?? '';
  const key = p.startsWith(config.walDir) ? `walDir (${config.walDir})` : p.startsWith(config.storeDir) ? `storeDir (${config.storeDir})` : 'walDir or storeDir';
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EEXIST: 'a file is in the way of the directory',
    EISDIR: 'a directory is where a file is expected',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
  };
  return {
    problem: `the data directory is unusable: ${e.syscall} ${p}: ${reasons[e.code ?? ''] ?? e.code}`,
    todo: `config key ${key} must name a directory this user (uid ${process.getuid?.() ?? '?'}) can create and write, on a writable disk with free space; fix its owner or mode (\`ls -ld ${p}\`), or point the key elsewhere`,
  };
}

function corruptLog(error: SegmentCorruptError, config: MasterConfig): StartupProblem {
  return {
    problem: `the Raft log is damaged: ${error.file} is corrupt at byte ${error.offsetBytes} (${error.reason}); cubemaster does not repair a log silently`,
    todo: recoverySteps(config),
  };
}

/** What to do with a member whose own data cannot be trusted. */
function recoverySteps(config: MasterConfig): string {
  return [
    'keep the damaged directories for analysis: move walDir and storeDir aside (do not delete them).',
    `In a cluster with a healthy majority: remove this member (\`cubemaster members remove ${config.id}\`), start it with empty directories and add it back (\`cubemaster members add ${config.id} <ip:port>\`): it catches up from the leader by snapshot.`,
    'Alone, or without a majority: restore the last backup into empty directories (`cubemaster snapshot restore FILE --data-dir DIR --members ...`, see docs/cli.md).',
  ].join(' ');
}
