// A deterministic digest of the whole model, for audits that compare members (and a member's
// memory with its own RocksDB). It is computed over the persisted form: every record's key and
// value bytes (records.ts), sorted bytewise by key as RocksDB orders them, each framed with its
// length. So it depends only on record contents, never on Map insertion order, and a scan of
// the model keys of the store gives the same digest as the model it was loaded into.
// Live (heartbeat) fields are not records and are not covered.

import { createHash } from 'node:crypto';
import type { StoredRecord } from './records.js';
import { encodeKey, isModelKey, recordsOf } from './records.js';
import type { ModelView } from './state.js';

/** Model keys start with '#' (records.ts isModelKey). */
const MODEL_KEY_FIRST_BYTE = 0x23;

export interface DigestInput {
  readonly key: string | Uint8Array;
  readonly value: Uint8Array;
}

/** Hex sha256 over model keys (those starting with '#'); other keys (the FSM's) are skipped. */
export function digestRecords(records: Iterable<DigestInput>): string {
  const entries: { key: Buffer; value: Uint8Array }[] = [];
  for (const r of records) {
    const key = typeof r.key === 'string' ? Buffer.from(encodeKey(r.key)) : Buffer.from(r.key);
    if (!isModelKey(key.toString('utf8'))) continue;
    entries.push({ key, value: r.value });
  }
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  const digester = new RecordDigester();
  for (const e of entries) digester.add(e.key, e.value);
  return digester.digest();
}

/**
 * The same digest over records that arrive already in key order (a scan of the store): one pass,
 * nothing kept. Non-model keys are skipped; a key out of order is a programmer error.
 */
export class RecordDigester {
  private readonly hash = createHash('sha256');
  private readonly len = Buffer.alloc(4);
  private previous: Buffer | null = null;

  add(key: Uint8Array, value: Uint8Array): void {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    if (k.length === 0 || k[0] !== MODEL_KEY_FIRST_BYTE) return;
    if (this.previous !== null && Buffer.compare(this.previous, k) >= 0) throw new Error('RecordDigester: keys out of order');
    this.previous = Buffer.from(k);
    this.len.writeUInt32BE(k.length);
    this.hash.update(this.len).update(k);
    this.len.writeUInt32BE(value.byteLength);
    this.hash.update(this.len).update(value);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export function modelDigest(model: ModelView): string {
  const records: StoredRecord[] = [...recordsOf(model)];
  return digestRecords(records);
}
