// Shared test helpers for the storage tests: temp dirs, a recording logger, a seeded PRNG, and
// a bounded wait so that a hang fails the test instead of stalling the run.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { StoreLogger } from '../../src/storage/logger.js';

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

export class RecordingLogger implements StoreLogger {
  readonly entries: LogEntry[] = [];
  info(fields: object, msg: string): void {
    this.entries.push({ level: 'info', fields: fields as Record<string, unknown>, msg });
  }
  warn(fields: object, msg: string): void {
    this.entries.push({ level: 'warn', fields: fields as Record<string, unknown>, msg });
  }
  error(fields: object, msg: string): void {
    this.entries.push({ level: 'error', fields: fields as Record<string, unknown>, msg });
  }
  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }
}

/** A fresh directory under os.tmpdir(); remove it with removeTempDir in an after hook. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cubemaster-${prefix}-`));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A temp-dir maker for one test file: every directory it made is removed after the file's tests. */
export function tempDirsRemovedAfter(): (prefix: string) => string {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) removeTempDir(dir);
  });
  return (prefix) => {
    const dir = makeTempDir(prefix);
    dirs.push(dir);
    return dir;
  };
}

/** Resolves with the promise's value, or rejects if it takes longer than timeoutMs. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** mulberry32: small, fast, good enough to pick test data from a seed that a failure prints. */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

export function key(text: string): Buffer {
  return Buffer.from(text);
}
