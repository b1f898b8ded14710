// The snapshot stream between members: pairs framed into chunks on the leader, decoded on the
// receiver from chunks cut anywhere (the transport does not keep the leader's chunk edges).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSnapshotChunks, encodeSnapshotChunks, SnapshotStreamError, type KeyValue } from '../../src/fsm/snapshot-codec.js';
import { prng } from '../model/helpers.js';
import { asyncOf, collect } from './async-items.js';

function batchesOf(pairs: readonly KeyValue[], batchSize: number): AsyncIterable<readonly KeyValue[]> {
  const batches: KeyValue[][] = [];
  for (let i = 0; i < pairs.length; i += batchSize) batches.push(pairs.slice(i, i + batchSize));
  return asyncOf(batches);
}

function randomPairs(random: () => number, count: number, maxValueBytes: number): KeyValue[] {
  return Array.from({ length: count }, (_, i) => {
    const value = new Uint8Array(Math.floor(random() * maxValueBytes));
    for (let b = 0; b < value.length; b++) value[b] = Math.floor(random() * 256);
    return { key: new TextEncoder().encode(`#user#u${i}`), value };
  });
}

/** Cuts the stream's bytes again at random places, as a socket may. */
function recut(chunks: readonly Uint8Array[], random: () => number): Uint8Array[] {
  const all = Buffer.concat(chunks);
  const out: Uint8Array[] = [];
  for (let at = 0; at < all.length; ) {
    const size = 1 + Math.floor(random() * 300);
    out.push(Uint8Array.prototype.slice.call(all, at, at + size));
    at += size;
  }
  return out;
}

void describe('snapshot stream codec', () => {
  void it('gives back every pair, in order, from chunks cut anywhere (50 seeds)', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = prng(seed);
      const pairs = randomPairs(random, 1 + Math.floor(random() * 200), 1 + Math.floor(random() * 400));
      const chunkSizeBytes = 16 + Math.floor(random() * 2000);
      const chunks = await collect(encodeSnapshotChunks(batchesOf(pairs, 1 + Math.floor(random() * 50)), chunkSizeBytes));
      for (const c of chunks) {
        // At most a chunk's size, unless one pair alone is larger.
        if (c.byteLength > chunkSizeBytes) assert.ok(pairs.some((p) => c.byteLength === 8 + p.key.byteLength + p.value.byteLength), `seed ${seed}: chunk of ${c.byteLength} bytes`);
      }
      const decoded = (await collect(decodeSnapshotChunks(asyncOf(recut(chunks, random))))).flat();
      assert.equal(decoded.length, pairs.length, `seed ${seed}`);
      decoded.forEach((d, i) => {
        assert.deepEqual(Buffer.from(d.key), Buffer.from(pairs[i].key), `seed ${seed} pair ${i}`);
        assert.deepEqual(Buffer.from(d.value), Buffer.from(pairs[i].value), `seed ${seed} pair ${i}`);
      });
    }
  });

  void it('hands out chunks that later pairs do not overwrite', async () => {
    const pairs = randomPairs(prng(7), 100, 50);
    const chunks = await collect(encodeSnapshotChunks(batchesOf(pairs, 10), 64));
    const copies = chunks.map((c) => Buffer.from(c));
    chunks.forEach((c, i) => assert.deepEqual(Buffer.from(c), copies[i]));
    const decoded = (await collect(decodeSnapshotChunks(asyncOf(chunks)))).flat();
    assert.deepEqual(
      decoded.map((d) => Buffer.from(d.value).toString('hex')),
      pairs.map((p) => Buffer.from(p.value).toString('hex')),
    );
  });

  void it('refuses a stream that ends inside a pair, and a length past the limit', async () => {
    const chunks = await collect(encodeSnapshotChunks(batchesOf(randomPairs(prng(3), 5, 30), 5), 1024));
    const bytes = Buffer.concat(chunks);
    await assert.rejects(collect(decodeSnapshotChunks(asyncOf([bytes.subarray(0, bytes.length - 1)]))), SnapshotStreamError);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0xffffffff, 0);
    await assert.rejects(collect(decodeSnapshotChunks(asyncOf([huge]))), /exceeds the limit/);
  });
});
