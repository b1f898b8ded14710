// The backup file format: what is written reads back with its header, records and digests; a
// truncated, altered or foreign file is refused, never read as a smaller state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSnapshotFile, readSnapshotFile, SnapshotFileError, verifySnapshotFile, type SnapshotFileHeader } from '../../src/fsm/snapshot-file.js';
import { digestRecords } from '../../src/model/index.js';
import { asyncOf } from './async-items.js';

const enc = new TextEncoder();
const HEADER: SnapshotFileHeader = {
  format: 'cubemaster-snapshot',
  version: 1,
  clusterName: 'c',
  memberId: 2,
  index: 42,
  term: 3,
  conf: { voters: [1, 2, 3], learners: [] },
  createdAtIso: '2026-01-01T00:00:00.000Z',
  recordsEstimate: 3,
};
const RECORDS = [
  { key: enc.encode('\x00raft/applied'), value: enc.encode('{"index":42,"term":3}') },
  { key: enc.encode('#user#alice'), value: enc.encode('a'.repeat(5000)) },
  { key: enc.encode('#user#bob'), value: enc.encode('b') },
];

async function fileBytes(chunkSizeBytes = 64): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of encodeSnapshotFile(HEADER, asyncOf(RECORDS), chunkSizeBytes)) parts.push(c);
  return Buffer.concat(parts);
}

function chunks(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += size) parts.push(bytes.subarray(i, i + size));
  return asyncOf(parts);
}

async function refused(bytes: Uint8Array): Promise<string> {
  try {
    await verifySnapshotFile(chunks(bytes, 7));
  } catch (error) {
    assert.ok(error instanceof SnapshotFileError, String(error));
    return error.message;
  }
  assert.fail('expected the file to be refused');
}

void describe('snapshot file', () => {
  void it('reads back the header, every record in order and the digest of the model records, however the bytes are cut', async () => {
    const bytes = await fileBytes();
    for (const size of [1, 13, 4096, bytes.byteLength]) {
      const reader = readSnapshotFile(chunks(bytes, size));
      const read = [];
      for await (const r of reader.records()) read.push(r);
      assert.deepEqual(await reader.header, HEADER);
      assert.deepEqual(read.map((r) => Buffer.from(r.key).toString()), RECORDS.map((r) => Buffer.from(r.key).toString()));
      assert.equal(reader.trailer().records, 3);
      assert.equal(reader.trailer().stateDigest, digestRecords(RECORDS), 'the audit digest of the model records');
    }
  });

  void it('refuses a truncated file, an altered byte, bytes after the trailer and a foreign file', async () => {
    const bytes = await fileBytes();
    assert.match(await refused(bytes.subarray(0, bytes.byteLength - 30)), /truncated|ends inside a record/);
    const cut = await fileBytes(1 << 20);
    assert.match(await refused(cut.subarray(0, cut.byteLength - (cut.byteLength - 100))), /truncated|ends inside a record/);
    const altered = Buffer.from(bytes);
    altered[200] ^= 1;
    assert.match(await refused(altered), /mismatch/);
    assert.match(await refused(Buffer.concat([bytes, Buffer.from([0, 0, 0, 1, 65, 0, 0, 0, 0])])), /after the trailer/);
    assert.match(await refused(Buffer.from('{"code":57,"msg":"no permission","data":null}')), /bad magic/);
    assert.match(await refused(Buffer.alloc(0)), /empty file/);
  });
});
