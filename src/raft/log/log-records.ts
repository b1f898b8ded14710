// The records the Raft log store writes into segment-log records (the segment log frames and
// checksums them; this module only lays out payloads). One record per entry, so a torn tail
// loses whole entries from the end and never half of one.
//
//   Entry (type 1):       u64 index | u64 term | u8 entryType | data        (17-byte header)
//   HardState (type 2):   u64 term | u64 vote | u64 commit                  (24 bytes)
//   Install (type 3):     snapshot meta (../codec/snapshot-meta-codec.ts): the WHOLE log is
//                         replaced
//   Compaction (type 4):  snapshot meta: entries up to its index are dropped, later ones kept
//
// u64 = a safe integer as two little-endian u32 (../codec/binary-codec.ts). Fixed headers on
// the hot path (entries, hard state): no varint loop, no JSON.
import { ByteReader, ByteWriter } from '../codec/binary-codec.js';
import { EntryType, type Entry, type HardState, type SnapshotMeta } from '../core/index.js';
import { readSnapshotMeta, snapshotMetaBytes, writeSnapshotMeta } from '../codec/snapshot-meta-codec.js';

export const LogRecordType = {
  Entry: 1,
  HardState: 2,
  Install: 3,
  Compaction: 4,
} as const;
export type LogRecordType = (typeof LogRecordType)[keyof typeof LogRecordType];

export const ENTRY_HEADER_BYTES = 17;
const HARD_STATE_BYTES = 24;

/**
 * Encodes the payloads of `entries` into one allocation (one Buffer, one view per entry): a
 * Ready of 64 entries costs one allocation, not 64.
 */
export function encodeEntryPayloads(entries: readonly Entry[]): Buffer[] {
  let total = 0;
  for (const e of entries) total += ENTRY_HEADER_BYTES + e.data.byteLength;
  const w = ByteWriter.alloc(total);
  const payloads: Buffer[] = new Array<Buffer>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const start = w.offset;
    w.u64(e.index);
    w.u64(e.term);
    w.u8(e.type);
    w.bytes(e.data);
    payloads[i] = w.buffer.subarray(start, w.offset);
  }
  w.finish();
  return payloads;
}

/** The entry in `payload`; its data is a view of `payload`. Throws DecodeError. */
export function decodeEntry(payload: Uint8Array): Entry {
  const r = new ByteReader(payload, 'log entry record');
  const index = r.u64('index');
  const term = r.u64('term');
  const type = r.u8('entry type');
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) r.fail(`unknown entry type ${type}`);
  const data = r.bytes(r.remaining, 'data');
  return { index, term, type: type as EntryType, data };
}

export function encodeHardState(hs: HardState): Buffer {
  const w = ByteWriter.alloc(HARD_STATE_BYTES);
  w.u64(hs.term);
  w.u64(hs.vote);
  w.u64(hs.commit);
  return w.finish();
}

export function decodeHardState(payload: Uint8Array): HardState {
  const r = new ByteReader(payload, 'hard state record');
  const hs = { term: r.u64('term'), vote: r.u64('vote'), commit: r.u64('commit') };
  r.done();
  return hs;
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Buffer {
  const w = ByteWriter.alloc(snapshotMetaBytes(meta));
  writeSnapshotMeta(w, meta);
  return w.finish();
}

export function decodeSnapshotMeta(payload: Uint8Array): SnapshotMeta {
  const r = new ByteReader(payload, 'snapshot record');
  const meta = readSnapshotMeta(r);
  r.done();
  return meta;
}
