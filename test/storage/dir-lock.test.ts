// The data-directory lock: one holder at a time, named in the refusal; a lock left by a dead
// process is taken over; release removes only our own lock.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DirLock, DirLockedError, LOCK_FILE_NAME } from '../../src/storage/dir-lock.js';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'dir-lock-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pid of a process that has exited (so no process has it now, barring reuse within the test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

void describe('DirLock', () => {
  void it('refuses a second holder at once, naming the lock file and the holder', () => {
    withDir((dir) => {
      const lock = DirLock.acquire(dir);
      const error = (() => {
        try {
          DirLock.acquire(dir);
        } catch (e) {
          return e;
        }
        return null;
      })();
      assert.ok(error instanceof DirLockedError);
      assert.equal(error.holderPid, process.pid);
      assert.equal(error.lockPath, path.join(dir, LOCK_FILE_NAME));
      assert.match(error.message, new RegExp(`pid ${process.pid} on ${hostname()}`));
      lock.release();
      assert.equal(existsSync(path.join(dir, LOCK_FILE_NAME)), false, 'released');
      DirLock.acquire(dir).release();
    });
  });

  void it('takes over the lock of a dead process, and one that is not ours is never released by us', () => {
    withDir((dir) => {
      const file = path.join(dir, LOCK_FILE_NAME);
      writeFileSync(file, JSON.stringify({ pid: deadPid(), startTicks: null, host: hostname(), sinceIso: 'then', token: 'stale' }));
      const lock = DirLock.acquire(dir);
      const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; token: string };
      assert.equal(owner.pid, process.pid);
      // Someone replaced it (an operator, a copy): release leaves theirs alone.
      writeFileSync(file, JSON.stringify({ ...owner, token: 'someone-else' }));
      lock.release();
      assert.equal(existsSync(file), true);
    });
  });

  void it('counts a lock of another host as held (a shared disk is not ours to judge)', () => {
    withDir((dir) => {
      writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: deadPid(), startTicks: null, host: 'elsewhere', sinceIso: 'then', token: 't' }));
      assert.throws(() => DirLock.acquire(dir), DirLockedError);
    });
  });

  void it('takes over a lock that names this pid but that this process does not hold (an earlier process with the same pid left it)', () => {
    withDir((dir) => {
      writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: process.pid, startTicks: 1, host: hostname(), sinceIso: 'then', token: 'old' }));
      DirLock.acquire(dir).release();
    });
  });
});
