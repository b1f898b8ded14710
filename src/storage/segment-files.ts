// Segment files on disk: naming, listing, and the directory fsync that makes a create or an
// unlink durable (a new file's data is useless after a crash if its directory entry is lost).

import fs from 'node:fs';
import { join } from 'node:path';

const SEGMENT_NAME = /^(\d{20})\.seg$/;

/** Zero-padded so that name order is number order (ls, sorting, humans). */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(20, '0')}.seg`;
}

export function segmentPath(dir: string, segment: number): string {
  return join(dir, segmentFileName(segment));
}

/** The next segment, being written ahead (segment-spare.ts): never a segment name. */
export function spareTmpPath(dir: string): string {
  return join(dir, 'spare.tmp');
}

/** The next segment, written and synced, waiting to be renamed into place. */
export function spareReadyPath(dir: string): string {
  return join(dir, 'spare.ready');
}

/** Segment numbers present in `dir`, ascending. Other files are ignored. */
export function listSegmentNumbers(dir: string): number[] {
  const numbers: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const match = SEGMENT_NAME.exec(name);
    if (match !== null) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// Asynchronous versions, for the steps that wait on the disk while the process keeps working
// (fdatasync is milliseconds here). Callback API through the `fs` object, so tests can
// substitute a failing call with mock.method(fs, ...).

export function writeAllAtSync(fd: number, data: Buffer, positionBytes: number): void {
  let doneBytes = 0;
  while (doneBytes < data.length) {
    const writtenBytes = fs.writeSync(fd, data, doneBytes, data.length - doneBytes, positionBytes + doneBytes);
    if (writtenBytes <= 0) throw new Error('pwrite wrote 0 bytes');
    doneBytes += writtenBytes;
  }
}

/** writeAllAtSync through the thread pool (background writes that must not hold the thread). */
export async function writeAllAtAsync(fd: number, data: Buffer, positionBytes: number): Promise<void> {
  let doneBytes = 0;
  while (doneBytes < data.length) {
    const writtenBytes = await new Promise<number>((resolve, reject) => {
      fs.write(fd, data, doneBytes, data.length - doneBytes, positionBytes + doneBytes, (err, written) =>
        err === null ? resolve(written) : reject(err),
      );
    });
    if (writtenBytes <= 0) throw new Error('pwrite wrote 0 bytes');
    doneBytes += writtenBytes;
  }
}

export function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err === null ? resolve() : reject(err)));
  });
}

export async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Opens `path` with fs.open's `flags`; returns its fd. */
export function openFileAsync(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, (err, fd) => (err === null ? resolve(fd) : reject(err)));
  });
}

/** Creates `path` exclusively; returns its fd, open for writing. */
export function createFileAsync(path: string): Promise<number> {
  return openFileAsync(path, 'wx');
}

/** Cuts the file to `sizeBytes` and makes that durable (fsync: the size is metadata). */
export function truncateAndSyncAsync(fd: number, sizeBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.ftruncate(fd, sizeBytes, (err) => {
      if (err !== null) {
        reject(err);
        return;
      }
      fs.fsync(fd, (syncErr) => (syncErr === null ? resolve() : reject(syncErr)));
    });
  });
}

export function closeFileAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (err) => (err === null || err === undefined ? resolve() : reject(err)));
  });
}
