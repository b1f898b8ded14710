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
  const hash = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const { key, value } of entries) {
    len.writeUInt32BE(key.length);
    hash.update(len).update(key);
    len.writeUInt32BE(value.length);
    hash.update(len).update(value);
  }
  return hash.digest('hex');
}

export function modelDigest(model: ModelView): string {
  const records: StoredRecord[] = [...recordsOf(model)];
  return digestRecords(records);
}
