// Access to the shared node-wire captures (shared/spec/node-wire, shared/spec/wire) for tests.
// shared/ sits beside the checkout (../shared from the repository root); the compiled tests may
// run from another output dir, so the working directory is tried too. NODE_WIRE_DIR overrides.
// Tests that need a capture skip with a message when it is absent.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function firstExisting(candidates: readonly string[]): string | null {
  for (const dir of candidates) if (existsSync(dir)) return dir;
  return null;
}

/** shared/spec/, or null when it is not beside the checkout. */
export function sharedSpecDir(): string | null {
  return firstExisting([
    ...(process.env.NODE_WIRE_DIR !== undefined ? [resolve(process.env.NODE_WIRE_DIR, '..')] : []),
    resolve(process.cwd(), '../shared/spec'),
    fileURLToPath(new URL('../../../../shared/spec/', import.meta.url)),
    fileURLToPath(new URL('../../../shared/spec/', import.meta.url)),
  ]);
}

/** The path of a capture file under shared/spec (e.g. 'node-wire/master-to-node-tcp.jsonl'), or null. */
export function captureFile(relative: string): string | null {
  const dir = sharedSpecDir();
  if (dir === null) return null;
  const path = resolve(dir, relative);
  return existsSync(path) ? path : null;
}

/** `skip` option for a test that needs `relative`. */
export function skipUnless(relative: string): string | false {
  return captureFile(relative) === null ? `capture ${relative} not found (shared/ beside the checkout, or NODE_WIRE_DIR)` : false;
}

export function readJsonl<T = unknown>(relative: string): T[] {
  const path = captureFile(relative);
  if (path === null) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/**
 * The JSON text the wire carried, from a capture's decoded value: the capture renders integers of
 * 16+ digits as strings (to keep them exact), the wire had bare integers.
 */
export function wireJson(value: unknown): string {
  return JSON.stringify(value).replace(/"(\d{16,})"/g, '$1');
}

/** "ff 00 41 …" (a trailing "..." is ignored) -> bytes. */
export function hexBytes(hex: string): Buffer {
  return Buffer.from(hex.replace('...', '').trim().split(/\s+/).filter((b) => b !== '').join(''), 'hex');
}

export function isCompleteHex(hex: string): boolean {
  return !hex.includes('...');
}

export interface CapturedHeader {
  readonly Magic: number;
  readonly ExtentType: number;
  readonly Opcode: number;
  readonly ResultCode: number;
  readonly RemainingFollowers: number;
  readonly CRC: number;
  readonly Size: number;
  readonly ArgLen: number;
  readonly PartitionID: string;
  readonly ExtentID: string;
  readonly ExtentOffset: string;
  readonly ReqID: string;
  readonly KernelOffset: string;
}

export interface CapturedPacket {
  readonly t: string;
  readonly header: CapturedHeader;
  readonly op: string;
  readonly headerHex: string;
  readonly extraHeader?: { readonly VerSeq: string; readonly ProtoVersion: number };
  readonly arg?: { readonly text?: string; readonly hex?: string };
  readonly dataJSON?: unknown;
  readonly dataText?: string;
  readonly dataHex?: string;
  readonly dataHexHead?: string;
}

export interface MasterToNodeExchange {
  readonly conn: string;
  readonly request: CapturedPacket & { readonly dataJSON: Record<string, unknown> };
  readonly reply: CapturedPacket;
}

export interface HttpExchange {
  readonly conn: string;
  readonly request: { readonly startLine: string; readonly headers: Record<string, string>; readonly bodyJSON?: unknown; readonly bodyText?: string };
  readonly response: { readonly startLine: string; readonly bodyJSON?: unknown };
}
