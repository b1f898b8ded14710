// 64-bit values end to end: inode bounds near 2^63 and byte sizes above 2^53 must come out of
// the command codec (msgpack int64/uint64 <-> bigint) and the record codec (decimal strings in
// JSON) exactly as they went in, and a value outside its range must be refused, not rounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import type { Command, DataPartitionRecord, MetaPartitionRecord, VolRecord } from '../../src/model/index.js';
import {
  assertModel,
  changesToBatch,
  COMMAND_FORMAT_MSGPACK,
  COMMAND_MAGIC,
  decodeCommand,
  decodeRecord,
  DEFAULT_MP_INODE_STEP,
  emptyState,
  encodeCommand,
  INODE_ID_MAX,
  KEY,
  loadRecord,
  makeCommand,
  modelDigest,
} from '../../src/model/index.js';
import { CodecError } from '../../src/model/errors.js';
import { bootstrapped, createVol, diskPathsFor, MemoryStore, okChecked, replicated, volCreateBeginCmd, withNodesN } from './helpers.js';

const STEP = BigInt(DEFAULT_MP_INODE_STEP);
/** 2^53 + 1: the first integer a JS number cannot hold. */
const ABOVE_2_53 = 9_007_199_254_740_993n;
const U64_MAX = 18_446_744_073_709_551_615n;
const TWO_63 = 9_223_372_036_854_775_808n;

const META = [{ nodeId: 2, addr: '10.0.0.1:17210' }];
const DATA = [{ nodeId: 3, addr: '10.0.1.1:17310' }];

function roundTrip(cmd: Command): Command {
  return decodeCommand(encodeCommand(cmd));
}

/** Bytes of a command body as msgpack with the 2-byte header. */
function framed(body: unknown): Uint8Array {
  const b = pack(body);
  const out = new Uint8Array(2 + b.length);
  out[0] = COMMAND_MAGIC;
  out[1] = COMMAND_FORMAT_MSGPACK;
  out.set(b, 2);
  return out;
}

function codecError(fn: () => unknown, path: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CodecError && e.code === 6 && e.path === path);
}

void describe('command codec: 64-bit values', () => {
  void it('keeps inode bounds near 2^63 exactly (mp.split)', () => {
    const cmd = makeCommand('mp.split', {
      volId: 4,
      mpId: 3,
      newEnd: INODE_ID_MAX - STEP,
      newPartitions: [
        { id: 7, start: INODE_ID_MAX - STEP + 1n, end: INODE_ID_MAX - 2n, peers: META },
        { id: 8, start: INODE_ID_MAX - 1n, end: INODE_ID_MAX, peers: META },
      ],
    });
    const back = roundTrip(cmd);
    assert.deepEqual(back, cmd);
    assert.ok(back.type === 'mp.split');
    assert.equal(back.newEnd, 9_223_372_036_850_581_503n);
    assert.equal(back.newPartitions[1].end, 9_223_372_036_854_775_807n);
    for (const v of [back.newEnd, ...back.newPartitions.flatMap((p) => [p.start, p.end])]) assert.equal(typeof v, 'bigint');
  });

  void it('keeps byte sizes above 2^53 up to 2^64-1 exactly (dp.add, vol.createBegin)', () => {
    for (const sizeBytes of [ABOVE_2_53, ABOVE_2_53 + 2n, TWO_63, U64_MAX]) {
      const dp = makeCommand('dp.add', { volId: 4, mediaType: 1, sizeBytes, createTimeUnixSec: 1, partitions: [{ id: 9, peers: DATA, diskPaths: ['/d'] }] });
      const back = roundTrip(dp);
      assert.deepEqual(back, dp);
      assert.ok(back.type === 'dp.add');
      assert.equal(back.sizeBytes, sizeBytes);
    }
    const begin = volCreateBeginCmd('big', 'alice', { meta: META, data: DATA }, { dpSizeBytes: ABOVE_2_53 });
    const back = roundTrip(begin);
    assert.deepEqual(back, begin);
    assert.ok(back.type === 'vol.createBegin');
    assert.equal(back.dpSizeBytes, 9_007_199_254_740_993n);
  });

  void it('decodes small 64-bit fields as bigint too', () => {
    const cmd = makeCommand('mp.split', { volId: 4, mpId: 3, newEnd: 0n, newPartitions: [{ id: 7, start: 1n, end: INODE_ID_MAX, peers: META }] });
    const back = roundTrip(cmd);
    assert.ok(back.type === 'mp.split');
    assert.equal(back.newEnd, 0n);
    assert.equal(typeof back.newPartitions[0].start, 'bigint');
  });

  void it('refuses out-of-range and inexact values instead of rounding them (6)', () => {
    const split = (newEnd: bigint, end: bigint) =>
      makeCommand('mp.split', { volId: 4, mpId: 3, newEnd, newPartitions: [{ id: 7, start: 1n, end, peers: META }] });
    codecError(() => roundTrip(split(TWO_63, INODE_ID_MAX)), 'newEnd');
    codecError(() => roundTrip(split(1n, TWO_63)), 'newPartitions[0].end');
    codecError(() => roundTrip(split(-1n, INODE_ID_MAX)), 'newEnd');
    const dp = (sizeBytes: unknown) => ({ v: 1, type: 'dp.add', volId: 4, mediaType: 1, sizeBytes, createTimeUnixSec: 1, partitions: [] });
    // 2^60 as a JS number travels as a float64: not an exact integer, refused.
    codecError(() => decodeCommand(framed(dp(2 ** 60))), 'sizeBytes');
    codecError(() => decodeCommand(framed(dp(-1n))), 'sizeBytes');
    // Beyond 64 bits msgpack has no integer: the encoder refuses (nothing is silently rounded).
    assert.throws(() => encodeCommand(makeCommand('dp.add', { volId: 4, mediaType: 1, sizeBytes: U64_MAX + 1n, createTimeUnixSec: 1, partitions: [] })), RangeError);
  });
});

void describe('record codec: 64-bit values', () => {
  void it('stores bounds and sizes as decimal strings and reads them back exactly', () => {
    const mp: MetaPartitionRecord = {
      id: 7,
      volId: 4,
      volName: 'big',
      start: INODE_ID_MAX - STEP + 1n,
      end: INODE_ID_MAX,
      replicaNum: 1,
      status: 2,
      peers: META,
      isRecover: false,
    };
    const dp: DataPartitionRecord = {
      id: 9,
      volId: 4,
      volName: 'big',
      replicaNum: 1,
      status: 2,
      peers: DATA,
      replicas: [{ addr: DATA[0].addr, diskPath: '/d' }],
      mediaType: 1,
      sizeBytes: U64_MAX,
      isRecover: false,
      rdOnly: false,
      createTimeUnixSec: 1,
    };
    const [mpOp, dpOp] = changesToBatch([
      { kind: 'metaPartition', op: 'put', record: mp },
      { kind: 'dataPartition', op: 'put', record: dp },
    ]);
    assert.ok(mpOp.type === 'put' && dpOp.type === 'put');
    assert.equal(mpOp.key, KEY.metaPartition(4, 7));
    const mpJson = new TextDecoder().decode(mpOp.value);
    assert.match(mpJson, /"start":"9223372036850581504","end":"9223372036854775807"/);
    assert.match(new TextDecoder().decode(dpOp.value), /"sizeBytes":"18446744073709551615"/);
    assert.deepEqual(decodeRecord(mpOp.key, mpOp.value), { kind: 'metaPartition', op: 'put', record: mp });
    assert.deepEqual(decodeRecord(dpOp.key, dpOp.value), { kind: 'dataPartition', op: 'put', record: dp });

    // A stored end past 2^63-1 is corruption, not a value to round.
    const tooBig = new TextEncoder().encode(mpJson.replace('"end":"9223372036854775807"', '"end":"9223372036854775808"'));
    codecError(() => decodeRecord(mpOp.key, tooBig), `${mpOp.key}.end`);
  });

  void it('a model with 64-bit values survives the store and a reload exactly (vols, partitions, intents)', () => {
    const store = new MemoryStore();
    const state = bootstrapped(store);
    const { meta, data } = withNodesN(state, 1, store);
    const placement = { meta, data, mps: 1, dps: 1 };
    const vol: VolRecord = createVol(state, 'big', 'alice', placement, { dpSizeBytes: ABOVE_2_53 }, store);
    // Split the only mp as high as spec 3.1 allows, then add a data partition of 2^64-1 bytes.
    const mpId = okChecked(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 1 }), store).first;
    const dpId = okChecked(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 1 }), store).first;
    okChecked(state, makeCommand('mp.split', { volId: vol.id, mpId: 1, newEnd: INODE_ID_MAX - STEP, newPartitions: [{ id: mpId, start: INODE_ID_MAX - STEP + 1n, end: INODE_ID_MAX, peers: meta }] }), store);
    okChecked(state, makeCommand('dp.add', { volId: vol.id, mediaType: 1, sizeBytes: U64_MAX, createTimeUnixSec: 1, partitions: [{ id: dpId, peers: data, diskPaths: ['/d'] }] }), store);
    // An open intent holds 64-bit values too.
    const intent = okChecked(state, volCreateBeginCmd('pending', 'alice', placement, { dpSizeBytes: TWO_63 + 5n }), store);
    assert.equal(diskPathsFor(intent).length, 1);

    const reloaded = emptyState();
    for (const { key, value } of store.entries()) loadRecord(reloaded, key, value);
    assertModel(reloaded, 'reloaded model');
    assert.deepEqual(replicated(reloaded), replicated(state));
    assert.equal(modelDigest(reloaded), modelDigest(state));
    assert.equal(reloaded.vols.get(vol.id)?.dpSizeBytes, 9_007_199_254_740_993n);
    assert.equal(reloaded.metaPartitions.get(1)?.end, 9_223_372_036_850_581_503n);
    assert.equal(reloaded.metaPartitions.get(mpId)?.end, 9_223_372_036_854_775_807n);
    assert.equal(reloaded.dataPartitions.get(dpId)?.sizeBytes, 18_446_744_073_709_551_615n);
    assert.equal(reloaded.volIntents.get(intent.vol.id)?.vol.dpSizeBytes, 9_223_372_036_854_775_813n);
    assert.equal(reloaded.volIntents.get(intent.vol.id)?.metaPartitions[0].end, INODE_ID_MAX);
  });
});
