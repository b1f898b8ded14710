// The one place where a chaos run (src/server/chaos-hooks.ts, CUBEMASTER_CHAOS=1 only) and unit
// tests reach into a store's disk calls: a slow disk, a full one, a failing fsync. Production
// passes no DiskFaults at all; the stores then call straight through.

export interface DiskFaults {
  /** An error to refuse the next data write of `store` with (ENOSPC), or null. Asked right before it. */
  writeError(store: string): Error | null;
  /** An error to fail the next fdatasync of `store` with (EIO), or null. Asked right before it. */
  syncError(store: string): Error | null;
  /** How much longer the next write or sync of `store` takes (a slow disk); 0 for none. */
  delayMs(store: string, op: 'write' | 'sync'): number;
}

/** A system error as fs calls raise it (`code` and `errno` set), for injected faults. */
export function systemError(code: 'ENOSPC' | 'EIO' | 'EDQUOT', syscall: string): NodeJS.ErrnoException {
  const text = { ENOSPC: 'no space left on device', EIO: 'i/o error', EDQUOT: 'disk quota exceeded' }[code];
  const errno = { ENOSPC: -28, EIO: -5, EDQUOT: -122 }[code];
  const error: NodeJS.ErrnoException = new Error(`${code}: ${text}, ${syscall}`);
  error.code = code;
  error.errno = errno;
  error.syscall = syscall;
  return error;
}
