// A lock file that keeps a second process out of a data directory: two masters writing one Raft
// log or one RocksDB would corrupt both. Taken at start before anything is opened, released at
// stop after everything is closed.
//
// Node has no flock(2), so the lock is a file created atomically with its content (written to a
// private temporary file, then link(2)ed to the lock's name, which fails if the name exists). It
// names its holder: pid, the holder's start time in clock ticks since boot (/proc/<pid>/stat
// field 22, where there is a /proc) and host. A lock whose holder is dead (no such pid, or the
// pid now belongs to a process that started at another time) is stale: a SIGKILLed or powered-off
// master must restart without help. Removing a stale lock is itself guarded: only the process
// that creates `<lock>.takeover` (exclusively) may remove it, so two processes that find the same
// stale lock cannot both end up holding a fresh one. A takeover marker whose creator is dead is
// removed in turn (a crash inside the few lines of a takeover).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE_NAME = 'cubemaster.lock';

/** Tokens of the locks this process holds: its own pid in a lock is alive only with one of them. */
const heldTokens = new Set<string>();

/** Bound on lock attempts (each one a stale lock or marker removed by someone). */
const ACQUIRE_ATTEMPTS_MAX = 8;

interface LockOwner {
  readonly pid: number;
  /** Clock ticks after boot when the process started (Linux), or null. */
  readonly startTicks: number | null;
  readonly host: string;
  readonly sinceIso: string;
  /** Unique per acquisition: tells our own lock from a copy with the same pid. */
  readonly token: string;
}

/** The directory is held by a live process: names the lock file and the holder. */
export class DirLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holderPid: number,
    readonly holderHost: string,
    readonly holderSince: string,
  ) {
    super(
      `${path.dirname(lockPath)} is in use by another cubemaster process (pid ${holderPid} on ${holderHost}, since ${holderSince}); ` +
        `lock file ${lockPath}. Stop that process first, or give this one its own walDir and storeDir.`,
    );
    this.name = 'DirLockedError';
  }
}

export class DirLock {
  private released = false;

  private constructor(
    readonly lockPath: string,
    private readonly token: string,
  ) {}

  /** Takes the lock of `dir` (created if missing), or throws DirLockedError at once. */
  static acquire(dir: string): DirLock {
    fs.mkdirSync(dir, { recursive: true });
    const lockPath = path.join(dir, LOCK_FILE_NAME);
    const me: LockOwner = {
      pid: process.pid,
      startTicks: processStartTicks(process.pid),
      host: os.hostname(),
      sinceIso: new Date().toISOString(),
      token: randomBytes(8).toString('hex'),
    };
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS_MAX; attempt++) {
      if (createExclusive(lockPath, me)) {
        heldTokens.add(me.token);
        return new DirLock(lockPath, me.token);
      }
      const holder = readOwner(lockPath);
      if (holder === 'missing') continue;
      if (holder !== 'unreadable' && isAlive(holder)) throw new DirLockedError(lockPath, holder.pid, holder.host, holder.sinceIso);
      removeStale(lockPath, holder, me);
    }
    throw new Error(`could not take the lock ${lockPath} in ${ACQUIRE_ATTEMPTS_MAX} attempts: other processes keep replacing it`);
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldTokens.delete(this.token);
    const holder = readOwner(this.lockPath);
    if (holder !== 'missing' && holder !== 'unreadable' && holder.token === this.token) fs.rmSync(this.lockPath, { force: true });
  }
}

/** Writes the owner to a private file and links it to `target`: false when `target` exists. */
function createExclusive(target: string, owner: LockOwner): boolean {
  const tmp = `${target}.${owner.pid}.${owner.token}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    fs.writeSync(fd, `${JSON.stringify(owner)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function readOwner(file: string): LockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (!Number.isSafeInteger(parsed.pid) || typeof parsed.token !== 'string') return 'unreadable';
    return {
      pid: parsed.pid!,
      startTicks: typeof parsed.startTicks === 'number' ? parsed.startTicks : null,
      host: typeof parsed.host === 'string' ? parsed.host : '?',
      sinceIso: typeof parsed.sinceIso === 'string' ? parsed.sinceIso : '?',
      token: parsed.token,
    };
  } catch {
    // Written whole before it got its name: garbage means someone else wrote it. Not ours to trust.
    return 'unreadable';
  }
}

/**
 * Whether the lock's holder still runs. A lock from another host cannot be checked: it counts
 * as alive (a shared disk is the operator's call). Our own pid is alive only with a token this
 * process holds (another token: a lock an earlier process with our pid left behind).
 */
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  if (owner.pid === process.pid) return heldTokens.has(owner.token);
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const ticks = processStartTicks(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

/** Removes a stale lock under the takeover marker; whoever loses the marker race just retries. */
function removeStale(lockPath: string, stale: LockOwner | 'unreadable', me: LockOwner): void {
  const marker = `${lockPath}.takeover`;
  if (!createExclusive(marker, me)) {
    const taker = readOwner(marker);
    if (taker !== 'missing' && (taker === 'unreadable' || !isAlive(taker))) fs.rmSync(marker, { force: true });
    return;
  }
  try {
    // Still the same stale lock? (Another taker may have replaced it before we got the marker.)
    const now = readOwner(lockPath);
    const same = now === 'unreadable' ? stale === 'unreadable' : now !== 'missing' && stale !== 'unreadable' && now.token === stale.token;
    if (same) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(marker, { force: true });
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks after boot), or null without /proc. */
function processStartTicks(pid: number): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}
