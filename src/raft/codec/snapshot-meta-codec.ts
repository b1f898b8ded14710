// Binary form of a SnapshotMeta (index, term, membership), shared by the wire codec (MsgSnap)
// and the log store (snapshot and compaction records), so both read it the same way:
//
//   varuint index | varuint term | varuint voterCount | voters... | varuint learnerCount | learners...
//
// Ids are varuints. Counts are bounded by the bytes left (each id takes at least one byte), so a
// corrupt count cannot make the reader allocate more than the input's size.
import { type ByteReader, type ByteWriter, varuintBytes } from './binary-codec.js';
import type { ConfState, NodeId, SnapshotMeta } from '../core/index.js';

export function snapshotMetaBytes(meta: SnapshotMeta): number {
  return varuintBytes(meta.index) + varuintBytes(meta.term) + idListBytes(meta.conf.voters) + idListBytes(meta.conf.learners);
}

export function writeSnapshotMeta(w: ByteWriter, meta: SnapshotMeta): void {
  w.varuint(meta.index);
  w.varuint(meta.term);
  writeIdList(w, meta.conf.voters);
  writeIdList(w, meta.conf.learners);
}

export function readSnapshotMeta(r: ByteReader): SnapshotMeta {
  const index = r.varuint('snapshot index');
  const term = r.varuint('snapshot term');
  const voters = readIdList(r, 'voters');
  const learners = readIdList(r, 'learners');
  const conf: ConfState = { voters, learners };
  return { index, term, conf };
}

function idListBytes(ids: readonly NodeId[]): number {
  let n = varuintBytes(ids.length);
  for (const id of ids) n += varuintBytes(id);
  return n;
}

function writeIdList(w: ByteWriter, ids: readonly NodeId[]): void {
  w.varuint(ids.length);
  for (const id of ids) w.varuint(id);
}

function readIdList(r: ByteReader, field: string): NodeId[] {
  const count = r.boundedVaruint(`${field} count`, r.remaining);
  const ids: NodeId[] = new Array<NodeId>(count);
  for (let i = 0; i < count; i++) ids[i] = r.varuint(field);
  return ids;
}
