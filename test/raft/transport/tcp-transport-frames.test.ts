// The transport's building blocks without sockets: frame decoding from arbitrary splits, the
// control-frame bodies, and the snapshot chunk stream's backpressure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeError } from '../../../src/raft/codec/binary-codec.js';
import { ChunkStream } from '../../../src/raft/transport/chunk-stream.js';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameType, encodeFrame, type Frame } from '../../../src/raft/transport/frame-codec.js';
import { parseHostPort } from '../../../src/raft/transport/tcp-transport.js';
import {
  AUTH_NONCE_BYTES,
  ERROR_REASON_BYTES_MAX,
  HelloAuth,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_UNAUTHENTICATED,
  decodeAuthChallenge,
  decodeAuthProof,
  encodeAuthChallenge,
  helloVersion,
  StreamKind,
  decodeErrorReason,
  decodeHello,
  decodeSnapshotEnd,
  encodeErrorReason,
  encodeHello,
  encodeSnapshotEnd,
} from '../../../src/raft/transport/transport-wire.js';
import { Prng } from '../../storage/helpers.js';

function decodeAll(decoder: FrameDecoder): Frame[] {
  const out: Frame[] = [];
  for (let frame = decoder.next(); frame !== null; frame = decoder.next()) out.push(frame);
  return out;
}

void describe('frame codec', () => {
  void test('frames come out whole and in order however the stream is split', () => {
    const p = new Prng(5);
    const frames = Array.from({ length: 50 }, (_, i) => ({ type: (1 + (i % 9)) as FrameType, body: p.bytes(p.int(3) === 0 ? 5_000 : p.int(40)) }));
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.body)));
    for (let trial = 0; trial < 200; trial++) {
      const decoder = new FrameDecoder(1 << 20);
      const got: Frame[] = [];
      let offset = 0;
      while (offset < stream.length) {
        const n = trial === 0 ? 1 : 1 + p.int(trial < 100 ? 16 : 4_000);
        decoder.push(stream.subarray(offset, offset + n));
        offset += n;
        got.push(...decodeAll(decoder));
      }
      assert.equal(decoder.bufferedBytes, 0);
      assert.deepEqual(
        got.map((f) => [f.type, Buffer.from(f.body).toString('hex')]),
        frames.map((f) => [f.type, f.body.toString('hex')]),
      );
    }
  });

  void test('an oversized length is refused from the header alone, before the body arrives', () => {
    const decoder = new FrameDecoder(1_000);
    const header = encodeFrame(FrameType.Messages, Buffer.alloc(1_001)).subarray(0, FRAME_HEADER_BYTES);
    decoder.push(header);
    assert.throws(() => decoder.next(), (err) => err instanceof DecodeError && /exceeds the limit/.test(err.message));
  });

  void test('a flipped bit anywhere in a frame, or an unknown type, is a DecodeError', () => {
    const frame = encodeFrame(FrameType.Messages, Buffer.from('some raft messages'));
    for (let i = 0; i < frame.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(frame);
        bad[i] ^= bit;
        const decoder = new FrameDecoder(1 << 20);
        decoder.push(bad);
        decoder.push(Buffer.alloc(70_000)); // enough bytes for any longer length under the limit
        assert.throws(() => decoder.next(), DecodeError, `byte ${i} bit ${bit}`);
      }
    }
    const decoder = new FrameDecoder(1 << 20);
    decoder.push(Buffer.from([0, 0, 0, 0, 42, 0, 0, 0, 0]));
    assert.throws(() => decoder.next(), /unknown frame type 42/);
  });

  void test('control bodies round-trip and refuse garbage', () => {
    const hello = { stream: StreamKind.Snapshot, from: 3, to: 2 ** 40, clusterId: 'cubefs-prod-é', auth: HelloAuth.None, nonce: Buffer.alloc(0) };
    // Without authentication the Hello is v1, byte for byte what members before v2 send.
    const v1 = encodeHello(hello);
    assert.equal(helloVersion(v1), PROTOCOL_VERSION_UNAUTHENTICATED);
    assert.deepEqual(v1, Buffer.concat([Buffer.from([1, 2, 3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 14]), Buffer.from('cubefs-prod-é')]));
    assert.deepEqual(decodeHello(v1), { ...hello, version: 1 });
    for (const auth of [{ auth: HelloAuth.Tls, nonce: Buffer.alloc(0) }, { auth: HelloAuth.Secret, nonce: Buffer.alloc(AUTH_NONCE_BYTES, 7) }]) {
      const body = encodeHello({ ...hello, ...auth });
      assert.equal(helloVersion(body), PROTOCOL_VERSION);
      assert.deepEqual(decodeHello(body), { ...hello, ...auth, version: PROTOCOL_VERSION });
      assert.throws(() => decodeHello(body.subarray(0, body.length - 1)), DecodeError);
    }
    assert.throws(() => encodeHello({ ...hello, auth: HelloAuth.Secret }), /32-byte nonce/);
    assert.throws(() => decodeHello(Buffer.from([1, 9, 1, 2, 0])), DecodeError);
    assert.throws(() => decodeHello(Buffer.from([3, 1, 1, 2, 0])), /unknown hello version 3/);
    assert.throws(() => decodeHello(Buffer.concat([encodeHello({ ...hello, auth: HelloAuth.Tls }).subarray(0, -1), Buffer.from([9])])), /unknown auth kind 9/);
    assert.throws(() => decodeHello(Buffer.concat([v1, Buffer.from([0])])), DecodeError);
    const challenge = encodeAuthChallenge(Buffer.alloc(32, 1), Buffer.alloc(32, 2));
    assert.deepEqual(decodeAuthChallenge(challenge), { nonce: Buffer.alloc(32, 1), proof: Buffer.alloc(32, 2) });
    assert.throws(() => decodeAuthChallenge(challenge.subarray(1)), DecodeError);
    assert.deepEqual(decodeAuthProof(Buffer.alloc(32, 3)), Buffer.alloc(32, 3));
    assert.throws(() => decodeAuthProof(Buffer.alloc(33)), DecodeError);
    assert.equal(decodeErrorReason(encodeErrorReason('wrong cluster')), 'wrong cluster');
    const long = decodeErrorReason(encodeErrorReason('漢'.repeat(5_000)));
    assert.ok(Buffer.byteLength(long) <= ERROR_REASON_BYTES_MAX && long.length > 100);
    assert.equal(decodeSnapshotEnd(encodeSnapshotEnd(20 * 1024 * 1024)), 20 * 1024 * 1024);
  });

  void test('raft addresses parse as host:port or [v6]:port', () => {
    assert.deepEqual(parseHostPort('10.0.0.1:17010'), { host: '10.0.0.1', port: 17_010 });
    assert.deepEqual(parseHostPort('[::1]:17010'), { host: '::1', port: 17_010 });
    assert.deepEqual(parseHostPort('master-1.example:9'), { host: 'master-1.example', port: 9 });
    for (const bad of ['10.0.0.1', ':80', '10.0.0.1:0', '10.0.0.1:70000', '::1:80', 'a:b']) {
      assert.throws(() => parseHostPort(bad), /bad raft address/, bad);
    }
  });
});

/** The first byte of the next chunk, or undefined at the end. */
async function firstByte(it: AsyncIterator<Uint8Array>): Promise<number | undefined> {
  const result = await it.next();
  return result.done === true ? undefined : result.value[0];
}

void describe('snapshot chunk stream', () => {
  function make(highWaterBytes: number): { stream: ChunkStream; events: string[] } {
    const events: string[] = [];
    const stream = new ChunkStream({
      highWaterBytes,
      onPause: () => events.push('pause'),
      onResume: () => events.push('resume'),
      onCancel: () => events.push('cancel'),
    });
    return { stream, events };
  }

  void test('pauses the producer above the high-water mark and resumes it below half', async () => {
    const { stream, events } = make(100);
    const it = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) stream.push(Buffer.alloc(30, i));
    assert.deepEqual(events, ['pause']);
    assert.equal(stream.bufferedBytes, 120);
    assert.equal(await firstByte(it), 0);
    assert.equal(await firstByte(it), 1);
    assert.deepEqual(events, ['pause']); // 60 left: above half
    assert.equal(await firstByte(it), 2);
    assert.deepEqual(events, ['pause', 'resume']);
    stream.end();
    assert.equal(await firstByte(it), 3);
    assert.equal((await it.next()).done, true);
    assert.equal(stream.drained, true);
  });

  void test('a waiting consumer gets a chunk directly; a failure rejects it; buffered chunks are dropped', async () => {
    const { stream } = make(1_000);
    const it = stream[Symbol.asyncIterator]();
    const pending = it.next();
    stream.push(Buffer.from('a'));
    const got = await pending;
    assert.ok(got.done !== true);
    assert.equal(Buffer.from(got.value).toString(), 'a');
    stream.push(Buffer.from('b'));
    stream.fail(new Error('connection lost'));
    await assert.rejects(it.next(), /connection lost/);
    assert.equal(stream.bufferedBytes, 0);
    const waiting = make(10).stream;
    const next = waiting[Symbol.asyncIterator]().next();
    waiting.fail(new Error('timeout'));
    await assert.rejects(next, /timeout/);
  });

  void test('a consumer that stops early cancels (and unpauses) the producer; one that read everything does not', async () => {
    const { stream, events } = make(10);
    stream.push(Buffer.alloc(20));
    for await (const _ of stream) break;
    assert.deepEqual(events, ['pause', 'resume', 'cancel']);
    assert.equal(stream.state, 'cancelled');
    stream.push(Buffer.alloc(5)); // ignored
    assert.equal(stream.bufferedBytes, 0);

    const complete = make(10);
    complete.stream.push(Buffer.alloc(3));
    complete.stream.end();
    for await (const _ of complete.stream) break; // took the last chunk, then stopped
    assert.equal(complete.stream.state, 'ended');
    assert.equal(complete.stream.drained, true);
    assert.ok(!complete.events.includes('cancel'));
    assert.throws(() => complete.stream[Symbol.asyncIterator](), /iterated once/);
  });
});
