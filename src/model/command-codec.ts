// The wire form of replicated commands: 2 header bytes (0x43 'C', format 0x01 = msgpack) then one
// msgpack map (bigint fields travel as 64-bit integers and come back as bigint). Decoding checks
// the shape (field set, types, ranges) and nothing else: rule checks belong to apply, so a
// committed command that breaks a rule becomes a deterministic error result on every member
// instead of an undecodable entry.

import { pack, unpack } from 'msgpackr';
import type { Command, CommandOf, CommandType, NodeAddFields } from './commands.js';
import { COMMAND_FORMAT_MSGPACK, COMMAND_MAGIC, COMMAND_TYPES, COMMAND_VERSION, IDS_RESERVE_MAX, makeCommand } from './commands.js';
import { CodecError } from './errors.js';
import type { Obj } from './shape.js';
import {
  asObject,
  expectKeys,
  readBool,
  readInt,
  readNullableOneOf,
  readNullableString,
  readOneOf,
  readString,
} from './shape.js';
import type { DataMediaType } from './state.js';
import { COUNTER_NAMES, MediaType, UserType } from './state.js';
import type { CreatableUserType } from './validate.js';
import { RECOVERY_COMMAND_DECODERS } from './recovery-command-decoders.js';
import { VOL_COMMAND_DECODERS } from './vol-command-decoders.js';

export function encodeCommand(command: Command): Uint8Array {
  const body = pack(command);
  const out = new Uint8Array(2 + body.length);
  out[0] = COMMAND_MAGIC;
  out[1] = COMMAND_FORMAT_MSGPACK;
  out.set(body, 2);
  return out;
}

/** Decode untrusted bytes into a Command; throws CodecError naming the bad field. */
export function decodeCommand(bytes: Uint8Array): Command {
  if (bytes.length < 3 || bytes[0] !== COMMAND_MAGIC) throw new CodecError('', 'not a command (bad magic)');
  if (bytes[1] !== COMMAND_FORMAT_MSGPACK) throw new CodecError('', `unknown command format ${bytes[1]}`);
  let raw: unknown;
  try {
    raw = unpack(bytes.subarray(2)) as unknown;
  } catch (e) {
    throw new CodecError('', `not msgpack: ${e instanceof Error ? e.message : String(e)}`);
  }
  const o = asObject(raw, '');
  const v = o['v'];
  if (v !== COMMAND_VERSION) throw new CodecError('v', `unsupported command version ${String(v)}`);
  const type = readOneOf(o, 'type', COMMAND_TYPES);
  return DECODERS[type](o);
}

const MAX_ID = Number.MAX_SAFE_INTEGER;
const USER_TYPES: readonly CreatableUserType[] = [UserType.Admin, UserType.Normal];
const DATA_MEDIA: readonly DataMediaType[] = [MediaType.SSD, MediaType.HDD];
const NODE_ADD_KEYS = ['v', 'type', 'addr', 'zoneName', 'heartbeatPort', 'replicaPort', 'nodeSetId', 'nodeSetCapacity'];

function nodeAddFields(o: Obj): NodeAddFields {
  return {
    addr: readString(o, 'addr'),
    zoneName: readString(o, 'zoneName'),
    heartbeatPort: readString(o, 'heartbeatPort'),
    replicaPort: readString(o, 'replicaPort'),
    nodeSetId: readInt(o, 'nodeSetId', 0, MAX_ID),
    nodeSetCapacity: readInt(o, 'nodeSetCapacity', 0, MAX_ID),
  };
}

const DECODERS: { readonly [T in CommandType]: (o: Obj) => CommandOf<T> } = {
  ...VOL_COMMAND_DECODERS,
  ...RECOVERY_COMMAND_DECODERS,
  'cluster.bootstrap': (o) => {
    expectKeys(o, ['v', 'type', 'clusterName', 'createTimeUnixSec', 'root'], '');
    const root = asObject(o['root'], 'root');
    expectKeys(root, ['accessKey', 'secretKey', 'passwordSha1'], 'root');
    return makeCommand('cluster.bootstrap', {
      clusterName: readString(o, 'clusterName'),
      createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID),
      root: {
        accessKey: readString(root, 'accessKey', 'root'),
        secretKey: readString(root, 'secretKey', 'root'),
        passwordSha1: readString(root, 'passwordSha1', 'root'),
      },
    });
  },
  'cluster.setFrozen': (o) => {
    expectKeys(o, ['v', 'type', 'frozen'], '');
    return makeCommand('cluster.setFrozen', { frozen: readBool(o, 'frozen') });
  },
  'ids.reserve': (o) => {
    expectKeys(o, ['v', 'type', 'counter', 'count'], '');
    return makeCommand('ids.reserve', {
      counter: readOneOf(o, 'counter', COUNTER_NAMES),
      count: readInt(o, 'count', 1, IDS_RESERVE_MAX),
    });
  },
  'metaNode.add': (o) => {
    expectKeys(o, NODE_ADD_KEYS, '');
    return makeCommand('metaNode.add', nodeAddFields(o));
  },
  'dataNode.add': (o) => {
    expectKeys(o, [...NODE_ADD_KEYS, 'mediaType', 'createTimeMs'], '');
    return makeCommand('dataNode.add', {
      ...nodeAddFields(o),
      mediaType: readOneOf(o, 'mediaType', DATA_MEDIA),
      createTimeMs: readInt(o, 'createTimeMs', 0, MAX_ID),
    });
  },
  'user.create': (o) => {
    expectKeys(
      o,
      ['v', 'type', 'userId', 'accessKey', 'secretKey', 'passwordSha1', 'userType', 'description', 'createTimeUnixSec'],
      '',
    );
    return makeCommand('user.create', {
      userId: readString(o, 'userId'),
      accessKey: readString(o, 'accessKey'),
      secretKey: readString(o, 'secretKey'),
      passwordSha1: readString(o, 'passwordSha1'),
      userType: readOneOf(o, 'userType', USER_TYPES),
      description: readString(o, 'description'),
      createTimeUnixSec: readInt(o, 'createTimeUnixSec', 0, MAX_ID),
    });
  },
  'user.update': (o) => {
    expectKeys(o, ['v', 'type', 'userId', 'accessKey', 'secretKey', 'passwordSha1', 'userType', 'description'], '');
    return makeCommand('user.update', {
      userId: readString(o, 'userId'),
      accessKey: readNullableString(o, 'accessKey'),
      secretKey: readNullableString(o, 'secretKey'),
      passwordSha1: readNullableString(o, 'passwordSha1'),
      userType: readNullableOneOf(o, 'userType', USER_TYPES),
      description: readNullableString(o, 'description'),
    });
  },
  'user.delete': (o) => {
    expectKeys(o, ['v', 'type', 'userId'], '');
    return makeCommand('user.delete', { userId: readString(o, 'userId') });
  },
};
