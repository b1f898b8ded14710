// The backup file of `cubemaster snapshot save` (served by GET /cubemaster/snapshot): a member's
// whole state store as of one applied index, read from one RocksDB snapshot while writes go on.
//
//   "CUBEMASTER-SNAPSHOT\n"                 magic (20 bytes)
//   [header pair]                           key HEADER_KEY, value the header JSON
//   [record pairs...]                       every key/value of the store, in key order
//   [trailer pair]                          key TRAILER_KEY, value the trailer JSON
//
// Pairs are framed as the Raft snapshot stream frames them (snapshot-codec.ts): [u32 key
// length][key][u32 value length][value]. The header says which state it is (index, term,
// membership, member, cluster); the trailer how many records, the digest of the model records
// (the digest /cubemaster/audit reports, model/digest.ts) and a sha256 of every byte before
// the trailer, so a reader verifies the file end to end and against the live cluster.
import { createHash } from 'node:crypto';
import { RecordDigester } from '../model/index.js';
import type { ConfState } from '../raft/core/index.js';
import { stringifyJson } from '../util/json.js';
import { decodeFramedPairs, framePair, SnapshotStreamError, type KeyValue } from './snapshot-codec.js';

export const SNAPSHOT_FILE_MAGIC = 'CUBEMASTER-SNAPSHOT\n';
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEADER_KEY = encoder.encode('\x01cubemaster/snapshot-header');
const TRAILER_KEY = encoder.encode('\x01cubemaster/snapshot-trailer');
export const SNAPSHOT_FILE_VERSION = 1;

export interface SnapshotFileHeader {
  readonly format: 'cubemaster-snapshot';
  readonly version: number;
  readonly clusterName: string;
  /** The member the state was read from. */
  readonly memberId: number;
  /** Applied index and its term: the state holds exactly the entries up to `index`. */
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
  readonly createdAtIso: string;
  /** About how many records follow (from the member's model when it began), for progress. */
  readonly recordsEstimate: number;
}

export interface SnapshotFileTrailer {
  readonly records: number;
  /** sha256 of the model records, as /cubemaster/audit computes it. */
  readonly stateDigest: string;
  /** sha256 of every byte of the file before the trailer pair. */
  readonly sha256: string;
}

/** A snapshot file that does not read back: truncated, altered, or not one. */
export class SnapshotFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFileError';
  }
}

/** The file's bytes from the header and the store's records (in key order). */
export async function* encodeSnapshotFile(header: SnapshotFileHeader, records: AsyncIterable<KeyValue>, chunkSizeBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const sha = createHash('sha256');
  const digester = new RecordDigester();
  let count = 0;
  let parts: Uint8Array[] = [];
  let size = 0;
  const push = (bytes: Uint8Array): void => {
    parts.push(bytes);
    size += bytes.byteLength;
  };
  const take = (): Uint8Array => {
    const out = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    sha.update(out);
    return out;
  };
  push(encoder.encode(SNAPSHOT_FILE_MAGIC));
  push(framePair(HEADER_KEY, encoder.encode(stringifyJson(header))));
  for await (const { key, value } of records) {
    digester.add(key, value);
    count++;
    push(framePair(key, value));
    if (size >= chunkSizeBytes) yield take();
  }
  if (size > 0) yield take();
  const trailer: SnapshotFileTrailer = { records: count, stateDigest: digester.digest(), sha256: sha.digest('hex') };
  yield framePair(TRAILER_KEY, encoder.encode(JSON.stringify(trailer)));
}

export interface SnapshotFileReader {
  /** Resolves with the header once it has been read (rejects if the file has none). */
  readonly header: Promise<SnapshotFileHeader>;
  /** The store's records, in order; iterate to the end to have them verified. */
  records(): AsyncGenerator<KeyValue>;
  /** After records() ended: the trailer, checked against what was read. */
  trailer(): SnapshotFileTrailer;
}

/**
 * Reads a snapshot file from its bytes, verifying as it goes: the magic, a header first, records
 * in strictly increasing key order, the trailer last with the count, the state digest and the
 * sha256 matching what was read, nothing after it. Any mismatch throws SnapshotFileError.
 */
export function readSnapshotFile(bytes: AsyncIterable<Uint8Array>): SnapshotFileReader {
  let resolveHeader: (h: SnapshotFileHeader) => void = () => undefined;
  let rejectHeader: (e: Error) => void = () => undefined;
  const header = new Promise<SnapshotFileHeader>((resolve, reject) => {
    resolveHeader = resolve;
    rejectHeader = reject;
  });
  header.catch(() => undefined);
  let trailer: SnapshotFileTrailer | null = null;
  async function* records(): AsyncGenerator<KeyValue> {
    const sha = createHash('sha256').update(SNAPSHOT_FILE_MAGIC);
    const digester = new RecordDigester();
    let count = 0;
    let previous: Uint8Array | null = null;
    let seenHeader = false;
    try {
      for await (const pair of decodeFramedPairs(afterMagic(bytes))) {
        if (trailer !== null) throw new SnapshotFileError('bytes after the trailer');
        if (!seenHeader) {
          if (!equal(pair.key, HEADER_KEY)) throw new SnapshotFileError('no header: not a cubemaster snapshot file');
          seenHeader = true;
          sha.update(pair.frame);
          resolveHeader(parseHeader(pair.value));
          continue;
        }
        if (equal(pair.key, TRAILER_KEY)) {
          trailer = checkTrailer(pair.value, { records: count, stateDigest: digester.digest(), sha256: sha.digest('hex') });
          continue;
        }
        if (previous !== null && Buffer.compare(previous, pair.key) >= 0) throw new SnapshotFileError(`records out of key order after record ${count}`);
        previous = pair.key;
        sha.update(pair.frame);
        digester.add(pair.key, pair.value);
        count++;
        yield { key: pair.key, value: pair.value };
      }
      if (!seenHeader) throw new SnapshotFileError('no header: not a cubemaster snapshot file');
      if (trailer === null) throw new SnapshotFileError(`the file ends after ${count} records without its trailer: truncated`);
    } catch (error) {
      // The framing's own errors mean a damaged file; the source's (I/O) pass through as they are.
      const e = error instanceof SnapshotStreamError ? new SnapshotFileError(`unreadable snapshot file: ${error.message}`) : error;
      rejectHeader(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }
  return {
    header,
    records,
    trailer: () => {
      if (trailer === null) throw new SnapshotFileError('trailer not read yet');
      return trailer;
    },
  };
}

/** Reads a whole file's header, records and trailer, verifying them (see readSnapshotFile). */
export async function verifySnapshotFile(
  bytes: AsyncIterable<Uint8Array>,
  onRecord?: (count: number) => void,
): Promise<{ header: SnapshotFileHeader; trailer: SnapshotFileTrailer }> {
  const reader = readSnapshotFile(bytes);
  let n = 0;
  for await (const _ of reader.records()) onRecord?.(++n);
  return { header: await reader.header, trailer: reader.trailer() };
}

/** Checks and strips the magic. */
async function* afterMagic(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const magic = encoder.encode(SNAPSHOT_FILE_MAGIC);
  let head: Uint8Array = new Uint8Array(0);
  let checked = false;
  for await (const chunk of bytes) {
    if (checked) {
      yield chunk;
      continue;
    }
    head = head.byteLength === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.byteLength < magic.byteLength) continue;
    if (!equal(head.subarray(0, magic.byteLength), magic)) throw new SnapshotFileError('bad magic: not a cubemaster snapshot file');
    checked = true;
    if (head.byteLength > magic.byteLength) yield head.subarray(magic.byteLength);
  }
  if (!checked) throw new SnapshotFileError(head.byteLength === 0 ? 'empty file: not a cubemaster snapshot file' : 'bad magic: not a cubemaster snapshot file');
}

function parseHeader(value: Uint8Array): SnapshotFileHeader {
  let h: Partial<SnapshotFileHeader>;
  try {
    h = JSON.parse(decoder.decode(value)) as Partial<SnapshotFileHeader>;
  } catch {
    throw new SnapshotFileError('the header is not JSON');
  }
  if (h.format !== 'cubemaster-snapshot') throw new SnapshotFileError('the header does not name the cubemaster-snapshot format');
  if (h.version !== SNAPSHOT_FILE_VERSION) throw new SnapshotFileError(`snapshot format version ${String(h.version)}; this cubemaster reads version ${SNAPSHOT_FILE_VERSION}`);
  const conf = h.conf as Partial<ConfState> | undefined;
  if (!Number.isSafeInteger(h.index) || !Number.isSafeInteger(h.term) || !Array.isArray(conf?.voters) || !Array.isArray(conf?.learners)) {
    throw new SnapshotFileError('the header lacks index, term or conf');
  }
  return h as SnapshotFileHeader;
}

function checkTrailer(value: Uint8Array, read: SnapshotFileTrailer): SnapshotFileTrailer {
  let t: Partial<SnapshotFileTrailer>;
  try {
    t = JSON.parse(decoder.decode(value)) as Partial<SnapshotFileTrailer>;
  } catch {
    throw new SnapshotFileError('the trailer is not JSON');
  }
  if (t.records !== read.records) throw new SnapshotFileError(`the trailer counts ${String(t.records)} records, the file holds ${read.records}`);
  if (t.sha256 !== read.sha256) throw new SnapshotFileError(`sha256 mismatch: the trailer says ${String(t.sha256)}, the bytes hash to ${read.sha256}`);
  if (t.stateDigest !== read.stateDigest) throw new SnapshotFileError(`state digest mismatch: the trailer says ${String(t.stateDigest)}, the records digest to ${read.stateDigest}`);
  return read;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
