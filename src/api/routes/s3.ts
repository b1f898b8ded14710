// Routes the objectnode and the Go SDK inside it call that are about client QoS and vol IP ACLs
// (spec/node-protocol.md section 5): `/s3/qos/get` (objectnode start-up), `/admin/qosUpload`
// (every SDK client registers for flow QoS at mount and then every 5 s) and `/admin/aclOp`
// (the SDK checks its own IP against the vol's ACL at mount).
//
// cubemaster keeps no S3 QoS quotas, no per-vol client QoS and no vol IP ACLs, so these answer
// what the Go master answers in that state (its defaults; node-wire/http-to-master.jsonl):
// no S3 limits, QoS disabled for every vol (the client then never throttles), an empty ACL. What
// would change such state (S3 QoS set, ACL add/del) is refused, never acknowledged and dropped.

import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { checkVolName, volByName, VolNotFoundError } from '../../model/index.js';
import { CubeCode, ParamError } from '../../util/errors.js';
import type { ApiContext } from '../context.js';
import { parseUint } from '../params.js';
import { defineRoute, type RouteCall } from '../route.js';

/** CubeFS flow-QoS factor types: iops read/write, flow read/write (proto.IopsReadType..FlowWriteType). */
const QOS_FACTOR_TYPES = [1, 2, 3, 4] as const;
/** The body of a client's QoS report is small (4 factors and a version); bound what we read. */
const QOS_BODY_LIMIT_BYTES = 64 * 1024;
/** CubeFS util.AclListIP / AclAddIP / AclDelIP / AclCheckIP. */
const ACL_LIST = 0;
const ACL_CHECK = 3;

export const s3Routes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  const existingVol = (name: string): string => {
    checkVolName(name);
    if (volByName(ctx.replicator.model, name) === undefined) throw new VolNotFoundError(name);
    return name;
  };
  // Go allocates client ids from a replicated counter (its idAlloc); with QoS always off the id
  // only labels the client's next reports, so a counter per member is enough. Ids of different
  // members are kept apart by the member id in the high digits.
  let lastClientId = 0;
  const nextClientId = (): number => ctx.cluster.selfId * 1_000_000_000 + 1000 + ++lastClientId;

  // proto.S3QoSResponse with no quota configured: `{"user_limit_conf":{},"nodes":0}`.
  defineRoute(app, ctx, {
    url: '/s3/qos/get',
    methods: ['GET', 'POST'],
    access: 'local',
    handle: () => ({ user_limit_conf: {}, nodes: 0 }),
  });

  // proto.LimitRsp2Client for a vol whose QoS is disabled, as the Go master sends it (capture:
  // ID 1001 on the first report, then the client's own ID echoed). `qosEnable=false`: data null.
  defineRoute(app, ctx, {
    url: '/admin/qosUpload',
    methods: ['GET'],
    access: 'read',
    handle: async (call) => {
      existingVol(call.params.require('name'));
      const enable = call.params.get('qosEnable');
      if (enable === undefined) throw new ParamError('qosEnable', 'parameter error');
      if (!goParseBool(enable)) return null;
      const report = decodeQosReport(await bodyOf(call));
      // Go logs an undecodable report and answers data null.
      if (report === null) return null;
      return {
        ID: report.id === 0 ? nextClientId() : report.id,
        Enable: false,
        ReqPeriod: 1,
        HitTriggerCnt: 1,
        FactorMap: Object.fromEntries(QOS_FACTOR_TYPES.map((t) => [String(t), { UsedLimit: 0, UsedBuffer: 0, Used: 0, Need: 0 }])),
        Magnify: {},
        Version: null,
      };
    },
  });

  // proto.AclRsp. Check (3): OK unless the IP is listed, and nothing is; list (0): no entries.
  defineRoute(app, ctx, {
    url: '/admin/aclOp',
    methods: ['GET'],
    access: 'read',
    handle: (call) => {
      existingVol(call.params.require('name'));
      const op = parseUint('op', call.params.require('op'));
      if (op !== ACL_LIST) call.params.require('ip');
      if (op === ACL_LIST || op === ACL_CHECK) return { Info: '', OK: true, List: null, Reserve: '' };
      if (op === 1 || op === 2) throw new ParamError('op', `op ${op}: cubemaster keeps no vol IP ACL (add/del not supported)`, CubeCode.ParamError);
      // Go answers an unknown op with OK and no list.
      return { Info: '', OK: true, List: null, Reserve: '' };
    },
  });

  done();
};

/** Go strconv.ParseBool, with its error read as false (the Go handler ignores the error). */
function goParseBool(value: string): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

/** The client's report: only its ID matters here; null when the body is not a JSON object. */
function decodeQosReport(body: Buffer): { id: number } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const id = (parsed as Record<string, unknown>).ID;
  return { id: typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : 0 };
}

/**
 * The request body. The SDK sends its QoS report as the body of a GET, which fastify does not
 * parse for bodiless methods, so it is read here from the request stream (bounded).
 */
async function bodyOf(call: RouteCall): Promise<Buffer> {
  if (call.body !== undefined) return call.body;
  return readRaw(call.request, QOS_BODY_LIMIT_BYTES);
}

async function readRaw(request: FastifyRequest, limitBytes: number): Promise<Buffer> {
  const raw = request.raw;
  if (raw.readableEnded) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limitBytes) throw new ParamError('body', `request body larger than ${limitBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
