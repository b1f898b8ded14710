// The binary form of a Raft Message on the wire (../core/types.ts). Compact: the common fields
// are unsigned LEB128 varints (a heartbeat is ~10 bytes), entries are (term, index, type, data).
//
//   u8 type | u8 flags (bit 0 reject, bit 1 snapshot present; other bits zero)
//   varuint from | to | term | logTerm | index | commit | rejectHint
//   varuint contextBytes | context (UTF-8)
//   [snapshot meta, if flag bit 1: see ../codec/snapshot-meta-codec.ts]
//   varuint entryCount | entryCount x (varuint term | varuint index | u8 type | varuint dataBytes | data)
//
// A batch (the body of a message frame) is: varuint messageCount | messages, back to back (each
// message delimits itself).
//
// Decoding validates everything a peer could get wrong (lengths, counts, enum values, safe
// integers, UTF-8, trailing bytes) and throws DecodeError; it never reads past the input. Every
// accepted input is the unique encoding of its message (canonical varints, zero unused flag bits),
// so decode followed by encode gives the same bytes. Entry data in a decoded message are VIEWS of
// the input buffer (no copy): the caller must not reuse that buffer afterwards.
import { ByteReader, ByteWriter, DecodeError, varuintBytes } from '../codec/binary-codec.js';
import { EntryType, MessageType, type Entry, type Message } from '../core/index.js';
import { readSnapshotMeta, snapshotMetaBytes, writeSnapshotMeta } from '../codec/snapshot-meta-codec.js';

export { DecodeError };

const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
const FLAGS_KNOWN = FLAG_REJECT | FLAG_SNAPSHOT;

/** The smallest encoded entry: four one-byte fields. Bounds a decoded entry count by the input. */
const ENTRY_BYTES_MIN = 4;
/** The smallest encoded message: type, flags, seven one-byte varints, context length, entry count. */
const MESSAGE_BYTES_MIN = 11;

const MESSAGE_TYPES: ReadonlySet<number> = new Set(Object.values(MessageType));
const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/** Exact encoded size of `m` (what the transport's queue bounds count). */
export function messageEncodedBytes(m: Message): number {
  const contextBytes = m.context.length === 0 ? 0 : Buffer.byteLength(m.context, 'utf8');
  let n =
    2 +
    varuintBytes(m.from) +
    varuintBytes(m.to) +
    varuintBytes(m.term) +
    varuintBytes(m.logTerm) +
    varuintBytes(m.index) +
    varuintBytes(m.commit) +
    varuintBytes(m.rejectHint) +
    varuintBytes(contextBytes) +
    contextBytes +
    varuintBytes(m.entries.length);
  if (m.snapshot !== null) n += snapshotMetaBytes(m.snapshot);
  for (const e of m.entries) {
    n += varuintBytes(e.term) + varuintBytes(e.index) + 1 + varuintBytes(e.data.byteLength) + e.data.byteLength;
  }
  return n;
}

export function writeMessage(w: ByteWriter, m: Message): void {
  w.u8(m.type);
  w.u8((m.reject ? FLAG_REJECT : 0) | (m.snapshot !== null ? FLAG_SNAPSHOT : 0));
  w.varuint(m.from);
  w.varuint(m.to);
  w.varuint(m.term);
  w.varuint(m.logTerm);
  w.varuint(m.index);
  w.varuint(m.commit);
  w.varuint(m.rejectHint);
  const contextBytes = m.context.length === 0 ? 0 : Buffer.byteLength(m.context, 'utf8');
  w.varuint(contextBytes);
  if (contextBytes > 0) w.utf8(m.context, contextBytes);
  if (m.snapshot !== null) writeSnapshotMeta(w, m.snapshot);
  w.varuint(m.entries.length);
  for (const e of m.entries) {
    w.varuint(e.term);
    w.varuint(e.index);
    w.u8(e.type);
    w.varuint(e.data.byteLength);
    w.bytes(e.data);
  }
}

export function encodeMessage(m: Message): Buffer {
  const w = ByteWriter.alloc(messageEncodedBytes(m));
  writeMessage(w, m);
  return w.finish();
}

export function readMessage(r: ByteReader): Message {
  const typeOffset = r.offset;
  const type = r.u8('message type');
  if (!MESSAGE_TYPES.has(type)) throw new DecodeError(r.what, typeOffset, `unknown message type ${type}`);
  const flagsOffset = r.offset;
  const flags = r.u8('flags');
  if ((flags & ~FLAGS_KNOWN) !== 0) throw new DecodeError(r.what, flagsOffset, `unknown flag bits ${flags}`);
  const from = r.varuint('from');
  const to = r.varuint('to');
  const term = r.varuint('term');
  const logTerm = r.varuint('logTerm');
  const index = r.varuint('index');
  const commit = r.varuint('commit');
  const rejectHint = r.varuint('rejectHint');
  const contextBytes = r.boundedVaruint('context length', r.remaining);
  const context = r.utf8(contextBytes, 'context');
  const snapshot = (flags & FLAG_SNAPSHOT) !== 0 ? readSnapshotMeta(r) : null;
  const entryCount = r.boundedVaruint('entry count', Math.floor(r.remaining / ENTRY_BYTES_MIN));
  let entries: readonly Entry[] = NO_ENTRIES;
  if (entryCount > 0) {
    const list = new Array<Entry>(entryCount);
    for (let i = 0; i < entryCount; i++) {
      const entryTerm = r.varuint('entry term');
      const entryIndex = r.varuint('entry index');
      const entryTypeOffset = r.offset;
      const entryType = r.u8('entry type');
      if (entryType !== EntryType.Normal && entryType !== EntryType.ConfChange) {
        throw new DecodeError(r.what, entryTypeOffset, `unknown entry type ${entryType}`);
      }
      const dataBytes = r.boundedVaruint('entry data length', r.remaining);
      const data = r.bytes(dataBytes, 'entry data');
      list[i] = { term: entryTerm, index: entryIndex, type: entryType, data };
    }
    entries = list;
  }
  return {
    type: type as MessageType,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject: (flags & FLAG_REJECT) !== 0,
    rejectHint,
    snapshot,
    context,
  };
}

/** Decodes exactly one message filling `bytes`; throws DecodeError otherwise. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new ByteReader(bytes, 'raft message');
  const m = readMessage(r);
  r.done();
  return m;
}

/** Size of a batch body holding messages of the given encoded sizes. */
export function messageBatchBytes(messageCount: number, messagesBytes: number): number {
  return varuintBytes(messageCount) + messagesBytes;
}

export function writeMessageBatch(w: ByteWriter, messages: readonly Message[]): void {
  w.varuint(messages.length);
  for (const m of messages) writeMessage(w, m);
}

export function encodeMessageBatch(messages: readonly Message[]): Buffer {
  let bytes = 0;
  for (const m of messages) bytes += messageEncodedBytes(m);
  const w = ByteWriter.alloc(messageBatchBytes(messages.length, bytes));
  writeMessageBatch(w, messages);
  return w.finish();
}

/** Decodes a batch body; throws DecodeError on any malformed or trailing byte. */
export function decodeMessageBatch(bytes: Uint8Array): Message[] {
  const r = new ByteReader(bytes, 'raft message batch');
  const count = r.boundedVaruint('message count', Math.floor(r.remaining / MESSAGE_BYTES_MIN));
  const messages = new Array<Message>(count);
  for (let i = 0; i < count; i++) messages[i] = readMessage(r);
  r.done();
  return messages;
}
