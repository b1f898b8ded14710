// The node side of the master under malformed input: a fake node answers the master's admin
// packets (TcpTaskClient) with replies that are truncated, oversized, of a bad magic, another
// request's, garbage, bit-flipped or followed by stray bytes; and the decoders alone (packet
// frames in random chunks, AdminTask JSON, heartbeat reports) on mutated bytes. After each case:
// the call settles with its result or a NodeTaskError within its timeout (never another error,
// never a hang), a malformed reply closed that connection with one logged warning (the client's
// protocol-fault counter, TaskLogSink), and the next good request on the same client works. At
// the end no handle is left.

import net from 'node:net';
import { encodeAdminTask, newAdminTask } from '../../src/nodes/admin-task.js';
import { PacketDecodeError } from '../../src/nodes/errors.js';
import { parseNodeResponse } from '../../src/nodes/heartbeat-report.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { decodePacket, encodePacket, makePacket, makeReply, PacketDecoder, ResultCode, type Packet } from '../../src/nodes/packet.js';
import { NodeTaskError } from '../../src/nodes/task-client.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import { OperatingError } from '../../src/util/errors.js';
import { activeResources, count, fuzzLoop, leakedResources, Rng, type FuzzBudget, type FuzzReport } from './fuzz-report.js';

const MAX_REPLY_DATA_BYTES = 64 * 1024;
// Long enough that a reply on a loaded machine is not taken for a missing one (a false finding).
const ACK_TIMEOUT_MS = 800;
const PROTOCOL_FAULT_MSG = 'malformed reply from a node: connection closed';

/** How the fake node answers one request, and what the caller must then see. */
interface ReplyPlan {
  readonly name: string;
  /** Bytes written in answer to the request (null: no answer). */
  bytes(request: Packet): Buffer | null;
  /** Close the connection after writing. */
  readonly close: boolean;
  /** 'ok': resolves; 'failed'/'protocol'/'timeout'/'unreachable': that NodeTaskError reason; 'any': resolves or any NodeTaskError. */
  readonly expect: 'ok' | 'failed' | 'protocol' | 'timeout' | 'unreachable' | 'any';
  /** One protocol-fault warning must be logged. */
  readonly warns: boolean | 'maybe';
}

function ok(request: Packet): Buffer {
  return encodePacket(makeReply(request, ResultCode.OK));
}

function flip(rng: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return out;
}

export function replyPlan(rng: Rng): ReplyPlan {
  switch (rng.int(11)) {
    case 0:
      return { name: 'ok', bytes: ok, close: false, expect: 'ok', warns: false };
    case 1:
      return { name: 'truncated, then closed', bytes: (r) => ok(r).subarray(0, 1 + rng.int(56)), close: true, expect: 'protocol', warns: true };
    case 2:
      // Costs the reply timeout: drawn less often than the others.
      if (rng.chance(0.4)) return { name: 'truncated, kept open', bytes: (r) => ok(r).subarray(0, 1 + rng.int(56)), close: false, expect: 'timeout', warns: false };
      return { name: 'no reply, closed', bytes: () => null, close: true, expect: 'unreachable', warns: false };
    case 3:
      return {
        name: 'bad magic',
        bytes: (r) => {
          const b = ok(r);
          b[0] = rng.pick([0, 0x7f, 0xfe]);
          return b;
        },
        close: false,
        expect: 'protocol',
        warns: true,
      };
    case 4:
      return {
        name: 'oversized Size',
        bytes: (r) => {
          const b = ok(r);
          b.writeUInt32BE(MAX_REPLY_DATA_BYTES + 1 + rng.int(0x7fff_0000), 9);
          return b;
        },
        close: false,
        expect: 'protocol',
        warns: true,
      };
    case 5:
      return {
        name: 'oversized ArgLen',
        bytes: (r) => {
          const b = ok(r);
          b.writeUInt32BE((64 << 20) + 1 + rng.int(1000), 13);
          return b;
        },
        close: false,
        expect: 'protocol',
        warns: true,
      };
    case 6:
      return { name: 'another request\'s ReqID', bytes: (r) => encodePacket(makeReply({ ...r, reqId: r.reqId + 1n + BigInt(rng.int(1000)) }, ResultCode.OK)), close: false, expect: 'protocol', warns: true };
    case 7:
      return { name: 'garbage', bytes: () => rng.bytes(1 + rng.int(200)), close: rng.chance(0.5), expect: 'any', warns: 'maybe' };
    case 8:
      if (rng.chance(0.5)) {
        // Another protocol version's header (VerSeq, ProtoVersion, a version list): still the reply.
        const extentType = rng.pick([0x10, 0x80, 0x40, 0x50]);
        const versionList = (extentType & 0x40) !== 0 ? rng.bytes(17 * rng.int(4)) : new Uint8Array(0);
        return {
          name: `versioned reply (ExtentType 0x${extentType.toString(16)})`,
          bytes: (r) => encodePacket({ ...makeReply(r, ResultCode.OK), extentType, verSeq: BigInt(rng.int(1e9)), protoVersion: rng.int(5), versionList }),
          close: false,
          expect: 'ok',
          warns: false,
        };
      }
      return { name: 'bit flips', bytes: (r) => flip(rng, ok(r)), close: false, expect: 'any', warns: 'maybe' };
    case 9:
      // The reply is whole and answers the request; what follows it closes the connection.
      return { name: 'stray bytes after the reply', bytes: (r) => Buffer.concat([ok(r), rng.bytes(1 + rng.int(100))]), close: false, expect: 'ok', warns: true };
    default:
      return { name: 'error result', bytes: (r) => encodePacket(makeReply(r, rng.pick([ResultCode.OK + 1, 0xf5, 0xff]), Buffer.from('node says no'))), close: false, expect: 'failed', warns: false };
  }
}

interface FakeNode {
  readonly addr: string;
  plan: ReplyPlan;
  close(): Promise<void>;
}

async function fakeNode(): Promise<FakeNode> {
  const sockets = new Set<net.Socket>();
  const node = {
    addr: '',
    plan: replyPlan(new Rng(0)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const decoder = new PacketDecoder();
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      let requests: Packet[];
      try {
        requests = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const request of requests) {
        const plan = node.plan;
        const bytes = plan.bytes(request);
        if (bytes !== null) socket.write(bytes);
        if (plan.close) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.addr = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return node;
}

export async function runNodePacketFuzz(budget: FuzzBudget): Promise<FuzzReport> {
  const baseline = activeResources();
  const rng = new Rng(budget.seed);
  let warnings = 0;
  const client = new TcpTaskClient({
    dialTimeoutMs: 1_000,
    ackReplyTimeoutMs: ACK_TIMEOUT_MS,
    syncReplyTimeoutMs: ACK_TIMEOUT_MS,
    syncTriesMax: 1,
    retryDelayMs: 5,
    maxReplyDataBytes: MAX_REPLY_DATA_BYTES,
    logger: {
      warn: (_o, msg) => {
        if (msg === PROTOCOL_FAULT_MSG) warnings += 1;
      },
      info: () => undefined,
    },
  });
  const node = await fakeNode();
  const heartbeat = (): Promise<void> => client.heartbeat(node.addr, rng.chance(0.5) ? 'meta' : 'data', { currTimeSec: 1, masterAddr: '127.0.0.1:17010' });
  let report: FuzzReport;
  try {
    report = await fuzzLoop('node packets', budget, async (_index, outcomes) => {
      const plan = replyPlan(rng);
      node.plan = plan;
      const findings: string[] = [];
      const say = (what: string): void => {
        findings.push(`${plan.name}: ${what}`);
      };
      const warnedBefore = warnings;
      const started = Date.now();
      let reason = 'ok';
      try {
        await heartbeat();
      } catch (e) {
        if (!(e instanceof NodeTaskError)) {
          say(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of a NodeTaskError`);
          return findings;
        }
        reason = e.reason;
      }
      count(outcomes, reason);
      if (Date.now() - started > ACK_TIMEOUT_MS * 3 + 1_000) say(`took ${Date.now() - started} ms`);
      if (plan.expect !== 'any' && reason !== plan.expect) say(`settled as ${reason}, want ${plan.expect}`);
      // Stray bytes may arrive after the reply was taken: give the client a moment to see them.
      for (let waited = 0; plan.warns !== false && warnings === warnedBefore && waited < (plan.warns === true ? 500 : 10); waited += 5) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const warned = warnings - warnedBefore;
      if (plan.warns === true && warned !== 1) say(`${warned} protocol-fault warnings, want 1`);
      if (plan.warns === false && warned !== 0) say(`${warned} protocol-fault warnings, want 0`);
      if (warned > 1) say(`${warned} warnings for one closed connection`);
      // The client keeps serving: the next good request works (a second try only for a reply
      // the loaded machine did not deliver within the short timeout).
      node.plan = { name: 'ok', bytes: ok, close: false, expect: 'ok', warns: false };
      for (let attempt = 1; ; attempt++) {
        try {
          await heartbeat();
          break;
        } catch (e) {
          if (attempt === 1 && e instanceof NodeTaskError && e.reason === 'timeout') continue;
          say(`the next good request failed: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
      }
      return findings;
    });
  } finally {
    await client.close();
    await node.close();
  }
  const leaked = await leakedResources(baseline);
  return leaked.length === 0 ? report : { ...report, findings: [...report.findings, `after the run: leaked ${leaked.join(', ')}`] };
}

// --- the decoders alone ---------------------------------------------------------------------------

function sampleTask(rng: Rng): Buffer {
  const opCode = rng.pick([Opcode.MetaNodeHeartbeat, Opcode.DataNodeHeartbeat, Opcode.UpdateMetaPartition, Opcode.LoadMetaPartition, Opcode.CreateDataPartition]);
  const response =
    opCode === Opcode.MetaNodeHeartbeat
      ? { Status: 1, Result: '', ZoneName: 'default', Total: 1 << 30, MemUsed: 1 << 20, MetaPartitionReports: [{ PartitionID: 1, Start: 0, End: 9223372036854775807, Status: 1, MaxInodeID: 3, IsLeader: true, VolName: 'vola' }] }
      : opCode === Opcode.DataNodeHeartbeat
        ? { Status: 1, Result: '', ZoneName: 'default', Total: 1 << 30, Used: 1 << 20, PartitionReports: [{ PartitionID: 2, PartitionStatus: 1, Total: 1, Used: 0, IsLeader: true, VolName: 'vola', DiskPath: '/d' }] }
        : { Status: 1, Result: '', PartitionID: 3, VolName: 'vola', End: 100 };
  const task = newAdminTask({ opCode, operatorAddr: '127.0.0.1:17210', partitionId: 3, request: { a: 1 }, createTimeSec: 1, sendTimeSec: 1, requestId: 'r' });
  return encodeAdminTask({ ...task, Response: response });
}

/** Packet streams, AdminTask JSON and heartbeat reports, mutated: each decodes or is refused with the decoder's typed error. */
export function runNodeCodecFuzz(budget: FuzzBudget): Promise<FuzzReport> {
  const rng = new Rng(budget.seed);
  return fuzzLoop('node codecs', budget, (_index, outcomes) => {
    const findings: string[] = [];
    const check = (what: string, bytes: Buffer, typed: (e: unknown) => boolean, decode: () => unknown): void => {
      try {
        decode();
        count(outcomes, `${what} decoded`);
      } catch (e) {
        if (typed(e)) count(outcomes, `${what} refused`);
        else findings.push(`${what} ${bytes.subarray(0, 80).toString('hex')}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    };
    const request = makePacket({ opcode: rng.pick([Opcode.MetaNodeHeartbeat, Opcode.CreateDataPartition, 0x7c]), reqId: BigInt(rng.int(1e9)), extentType: rng.pick([0, 0x10, 0x40, 0x80, 0xd1]), data: rng.bytes(rng.int(100)) });
    let wire: Buffer;
    try {
      wire = encodePacket(request);
    } catch {
      wire = encodePacket(makePacket({ opcode: Opcode.MetaNodeHeartbeat }));
    }
    const stream = flip(rng, Buffer.concat([wire, wire]));
    check('packet stream', stream, (e) => e instanceof PacketDecodeError, () => {
      const decoder = new PacketDecoder({ maxArgBytes: 1 << 20, maxDataBytes: 1 << 20 });
      for (let at = 0; at < stream.length; ) {
        const n = 1 + rng.int(40);
        decoder.push(stream.subarray(at, at + n));
        at += n;
      }
    });
    const one = rng.chance(0.5) ? flip(rng, wire) : wire.subarray(0, rng.int(wire.length + 1));
    check('packet', one, (e) => e instanceof PacketDecodeError, () => decodePacket(one, { maxArgBytes: 1 << 20, maxDataBytes: 1 << 20 }));
    const task = sampleTask(rng);
    const mutated = rng.chance(0.3) ? task.subarray(0, rng.int(task.length)) : mutateJsonText(rng, task);
    check('node response', mutated, (e) => e instanceof OperatingError, () => parseNodeResponse(rng.chance(0.5) ? 'metaNode' : 'dataNode', mutated));
    return Promise.resolve(findings);
  });
}

/** A JSON text with a value swapped for another type, a digit run lengthened, or a byte flipped. */
function mutateJsonText(rng: Rng, text: Buffer): Buffer {
  const s = text.toString('utf8');
  switch (rng.int(4)) {
    case 0:
      return flip(rng, text);
    case 1:
      return Buffer.from(s.replace(/\d+/, (d) => d + '9'.repeat(rng.int(30))));
    case 2: {
      const replacements = ['null', '"x"', '[]', '{}', '-1', '1.5', '1e400', 'true', '18446744073709551616'];
      let n = rng.int(20);
      return Buffer.from(s.replace(/:(-?\d+|"[^"]*"|true|false|null)/g, (m) => (n-- === 0 ? `:${rng.pick(replacements)}` : m)));
    }
    default:
      return Buffer.from(s.replace(/"([A-Za-z]+)":/, (_m, k: string) => `"${k}${rng.pick(['', 'x', 'ID'])}":`));
  }
}
