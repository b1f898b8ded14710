import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import type { Command } from '../../src/model/index.js';
import { COMMAND_TYPES, decodeCommand, encodeCommand, makeCommand } from '../../src/model/index.js';
import { CodecError } from '../../src/model/errors.js';
import { bootstrapCmd, dataNodeAddCmd, metaNodeAddCmd, userCreateCmd, userUpdateCmd, volCreateBeginCmd } from './helpers.js';

const META = [{ nodeId: 2, addr: '127.0.0.1:17210' }];
const DATA = [{ nodeId: 3, addr: '127.0.0.1:17310' }];

const samples: Command[] = [
  bootstrapCmd(),
  makeCommand('cluster.setFrozen', { frozen: true }),
  makeCommand('ids.reserve', { counter: 'dataPartition', count: 7 }),
  metaNodeAddCmd('127.0.0.1:17210'),
  dataNodeAddCmd('127.0.0.1:17310', { mediaType: 2 }),
  userCreateCmd('alice', { description: 'déjà vu ✓' }),
  userUpdateCmd('alice', { userType: 2, description: '' }),
  userUpdateCmd('alice'),
  makeCommand('user.delete', { userId: 'bob' }),
  makeCommand('cluster.setNodeInfo', {
    batchCount: 100,
    markDeleteRate: null,
    autoRepairRate: 0,
    deleteWorkerSleepMs: null,
    loadFactor: 1.5,
    maxDpCntLimit: 3000,
    maxMpCntLimit: null,
    dpMaxRepairErrCnt: null,
  }),
  volCreateBeginCmd('volA', 'alice', { meta: META, data: DATA }),
  makeCommand('vol.createCommit', { volId: 4, dpDiskPaths: [['/d1'], ['/d2'], ['/d1']] }),
  makeCommand('vol.createAbort', { volId: 4 }),
  makeCommand('vol.update', { name: 'volA', capacityGB: 20, dpReplicaNum: null, settings: { description: 'hello', crossZone: true } }),
  makeCommand('vol.setDeleted', { name: 'volA', deleted: true, timeUnixSec: 1_795_632_755 }),
  makeCommand('vol.remove', { volId: 4 }),
  makeCommand('vol.transfer', { name: 'volA', fromUserId: 'alice', toUserId: 'carol', force: false }),
  makeCommand('user.updatePolicy', { userId: 'carol', volume: 'volA', actions: ['perm:builtin:ReadOnly'] }),
  makeCommand('user.removePolicy', { userId: 'carol', volume: 'volA' }),
  makeCommand('mp.split', {
    volId: 4,
    mpId: 3,
    newEnd: 8_388_608n + 4_194_304n,
    newPartitions: [{ id: 7, start: 12_582_913n, end: 9_223_372_036_854_775_807n, peers: META }],
  }),
  makeCommand('dp.add', {
    volId: 4,
    mediaType: 1,
    sizeBytes: 18_446_744_073_709_551_615n,
    createTimeUnixSec: 1_795_632_755,
    partitions: [{ id: 9, peers: DATA, diskPaths: ['/var/lib/cubefs/data1/disk1'] }],
  }),
  makeCommand('partition.replaceReplica', { kind: 'data', partitionId: 9, removeAddr: '127.0.0.1:17310', add: { nodeId: 5, addr: '127.0.0.1:17311' }, diskPath: '/d' }),
  makeCommand('node.setRdOnly', { kind: 'meta', addr: '127.0.0.1:17210', rdOnly: true }),
  makeCommand('node.remove', { kind: 'data', addr: '127.0.0.1:17310' }),
  makeCommand('recovery.begin', {
    params: { nodes: [{ kind: 'any', addr: '127.0.0.1:17210' }], collectTimeoutMs: 60_000, idMargin: 10_000, nodeIdHints: [{ addr: '127.0.0.1:17310', id: 3 }] },
    timeUnixSec: 1_795_632_755,
    newRound: false,
  }),
  makeCommand('recovery.adoptNodes', {
    round: 1,
    nodeSetCapacity: 18,
    createTimeMs: 1_795_632_755_000,
    idFloor: 3,
    nodes: [{ kind: 'data', id: 3, addr: '127.0.0.1:17310', zoneName: 'default', heartbeatPort: '17330', replicaPort: '17331', mediaType: 1 }],
  }),
  makeCommand('recovery.adoptVol', {
    round: 1,
    name: 'volA',
    owner: 'root',
    createTimeUnixSec: 1_795_632_755,
    capacityGB: 120,
    mpReplicaNum: 1,
    dpReplicaNum: 1,
    dpSizeBytes: 120n * 1_073_741_824n,
    volStorageClass: 1,
    settings: volCreateBeginCmd('volA', 'alice', { meta: META, data: DATA }).settings,
    metaPartitions: [{ id: 1, start: 0n, end: 9_223_372_036_854_775_807n, peers: META }],
    dataPartitions: [{ id: 2, peers: DATA, diskPaths: ['/d1'], sizeBytes: 18_446_744_073_709_551_615n, mediaType: 1, status: 2 }],
  }),
  makeCommand('recovery.adoptDataPartitions', {
    round: 1,
    volName: 'volA',
    createTimeUnixSec: 1_795_632_755,
    partitions: [{ id: 3, peers: DATA, diskPaths: [''], sizeBytes: 1n, mediaType: 2, status: 1 }],
  }),
  makeCommand('recovery.finish', {
    round: 1,
    timeUnixSec: 1_795_632_755,
    counterFloors: { common: 10_003, metaPartition: 10_001, dataPartition: 10_003 },
    summary: { nodesListed: 1, nodesReported: 1, nodesRegistering: 0, metaNodesAdopted: 1, dataNodesAdopted: 1, volsAdopted: 1, metaPartitionsAdopted: 1, dataPartitionsAdopted: 2, partitionsNotAdopted: 0, conflicts: 0, guesses: 3 },
    findings: [{ kind: 'guess', subject: 'vol volA', detail: 'capacity 120 GB', rule: 'capacity' }],
    findingsOmitted: 0,
  }),
];

/** Bytes of a command body as msgpack with the 2-byte header. */
function framed(body: unknown): Uint8Array {
  const b = pack(body);
  return Uint8Array.from([0x43, 0x01, ...b]);
}

function expectCodecError(bytes: Uint8Array, path: string | RegExp): void {
  assert.throws(
    () => decodeCommand(bytes),
    (e: unknown) => {
      assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
      assert.equal(e.code, 6);
      if (typeof path === 'string') assert.equal(e.path, path);
      else assert.match(e.path, path);
      return true;
    },
  );
}

void describe('command codec', () => {
  void it('covers every command type in these tests', () => {
    assert.deepEqual(new Set(samples.map((c) => c.type)), new Set(COMMAND_TYPES));
  });

  for (const cmd of samples) {
    void it(`round-trips ${cmd.type}`, () => {
      const bytes = encodeCommand(cmd);
      assert.equal(bytes[0], 0x43);
      assert.equal(bytes[1], 0x01);
      assert.deepEqual(decodeCommand(bytes), cmd);
    });
  }

  void it('decodes a command whose fields arrive in another order', () => {
    const cmd = userCreateCmd('carol');
    const reversed = Object.fromEntries(Object.entries(cmd).reverse());
    assert.deepEqual(decodeCommand(framed(reversed)), cmd);
  });

  const good = userCreateCmd('carol') as unknown as Record<string, unknown>;
  const malformed: [string, Uint8Array, string | RegExp][] = [
    ['empty bytes', new Uint8Array(), ''],
    ['a bad magic byte', Uint8Array.from([0x00, 0x01, 0x80]), ''],
    ['an unknown format byte', Uint8Array.from([0x43, 0x02, 0x80]), ''],
    ['truncated msgpack', encodeCommand(userCreateCmd('carol')).subarray(0, 20), ''],
    ['trailing bytes', Uint8Array.from([...encodeCommand(userCreateCmd('carol')), 0x00]), ''],
    ['an array body', framed([1, 2, 3]), ''],
    ['a string body', framed('user.create'), ''],
    ['an unknown version', framed({ ...good, v: 2 }), 'v'],
    ['a missing version', framed({ ...good, v: undefined }), 'v'],
    ['an unknown type', framed({ ...good, type: 'user.explode' }), 'type'],
    ['a missing field', framed({ ...good, userId: undefined }), 'userId'],
    ['an unknown field', framed({ ...good, extra: 1 }), 'extra'],
    ['a number where a string belongs', framed({ ...good, userId: 42 }), 'userId'],
    ['a string where a number belongs', framed({ ...good, createTimeUnixSec: '1' }), 'createTimeUnixSec'],
    ['a fractional time', framed({ ...good, createTimeUnixSec: 1.5 }), 'createTimeUnixSec'],
    ['a negative time', framed({ ...good, createTimeUnixSec: -1 }), 'createTimeUnixSec'],
    ['a root user type', framed({ ...good, userType: 1 }), 'userType'],
    ['a date where a number belongs', framed({ ...good, createTimeUnixSec: new Date(0) }), 'createTimeUnixSec'],
    ['a map body without a type', framed(new Map([['v', 1]])), 'type'],
    ['null for a non-nullable field', framed({ ...good, description: null }), 'description'],
    ['a bad reserve count', framed({ v: 1, type: 'ids.reserve', counter: 'common', count: 0 }), 'count'],
    ['an unknown counter', framed({ v: 1, type: 'ids.reserve', counter: 'vol', count: 1 }), 'counter'],
    ['a bad media type', framed({ ...dataNodeAddCmd('1.1.1.1:1'), mediaType: 0 }), 'mediaType'],
    ['a negative node set id', framed({ ...metaNodeAddCmd('1.1.1.1:1'), nodeSetId: -1 }), 'nodeSetId'],
    ['a bootstrap without root', framed({ ...bootstrapCmd(), root: undefined }), 'root'],
    ['a root with an extra field', framed({ ...bootstrapCmd(), root: { ...bootstrapCmd().root, x: 1 } }), 'root.x'],
    ['a frozen flag as a number', framed({ v: 1, type: 'cluster.setFrozen', frozen: 1 }), 'frozen'],
    ['an oversized string', framed({ ...good, description: 'x'.repeat(70_000) }), 'description'],
  ];
  for (const [what, bytes, path] of malformed) {
    void it(`rejects ${what} with a CodecError (code 6)`, () => expectCodecError(bytes, path));
  }

  void it('does not let a __proto__ key reach the prototype', () => {
    const bytes = framed(JSON.parse('{"v":1,"type":"user.delete","userId":"bob","__proto__":{"polluted":true}}'));
    expectCodecError(bytes, /proto/);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
