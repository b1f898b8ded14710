// Leader-side meta/data node registration (spec 1.5 `/metaNode/add`, `/dataNode/add`; spec 1.3
// extractNodeAddr + checkIpPort). The proposer resolves what is not a function of the
// replicated state: a host name in `addr` becomes an IP (DNS, bounded), the node set capacity
// and the legacy media type come from this leader's config, the data node's create time from
// the clock. Ids are taken at apply time from the replicated counter (see apply-nodes.ts).

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { NodeAddResult } from '../model/index.js';
import {
  checkNodeAddr,
  checkNodeSetCapacity,
  checkOptionalPort,
  checkZoneName,
  dataNodeByAddr,
  DEFAULT_ZONE_NAME,
  makeCommand,
  metaNodeByAddr,
  resolveDataNodeMediaType,
} from '../model/index.js';
import { ParamError } from '../util/errors.js';
import type { CallOptions, Replicator } from './ports.js';
import type { Clock } from './sources.js';

export interface AddNodeRequest {
  /** ip:port or host:port as the node sent it. */
  readonly addr: string;
  /** '' = "default" (spec 1.5). */
  readonly zoneName: string;
  readonly heartbeatPort: string;
  readonly replicaPort: string;
  /** `id=`: the node set to join; 0 = choose one. */
  readonly nodeSetId: number;
}

export interface AddDataNodeRequest extends AddNodeRequest {
  /** `mediaType=` (1 SSD, 2 HDD); undefined or 0 = not given. */
  readonly mediaType: number | undefined;
}

/** Resolves a host name to one IP address (v4 or v6). */
export type HostResolver = (host: string, signal: AbortSignal) => Promise<string>;

export interface NodeServiceDeps {
  readonly replicator: Replicator;
  readonly clock: Clock;
  /** `nodeSetCap` of this master's config (spec 9; default 18, at least 3). */
  readonly nodeSetCapacity: number;
  /** `legacyDataMediaType` of this master's config (spec 9; 0 = none). */
  readonly legacyDataMediaType: number;
  readonly resolveHost?: HostResolver;
  readonly resolveTimeoutMs?: number;
}

export const DEFAULT_RESOLVE_TIMEOUT_MS = 2_000;

export const dnsResolver: HostResolver = async (host) => (await lookup(host)).address;

export class NodeService {
  private readonly resolveHost: HostResolver;
  private readonly resolveTimeoutMs: number;

  constructor(private readonly deps: NodeServiceDeps) {
    checkNodeSetCapacity(deps.nodeSetCapacity, 'nodeSetCap');
    this.resolveHost = deps.resolveHost ?? dnsResolver;
    this.resolveTimeoutMs = deps.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  }

  /** Idempotent by addr: a known node answers its existing id (spec 1.5, 11). */
  async addMetaNode(request: AddNodeRequest, options?: CallOptions): Promise<NodeAddResult> {
    const fields = await this.nodeFields(request);
    return this.deps.replicator.propose(makeCommand('metaNode.add', fields), options);
  }

  /** Media type required unless `legacyDataMediaType` is configured (code 1 otherwise, spec 11). */
  async addDataNode(request: AddDataNodeRequest, options?: CallOptions): Promise<NodeAddResult> {
    const fields = await this.nodeFields(request);
    const mediaType = resolveDataNodeMediaType(request.mediaType, this.deps.legacyDataMediaType);
    return this.deps.replicator.propose(
      makeCommand('dataNode.add', { ...fields, mediaType, createTimeMs: this.deps.clock.nowMs() }),
      options,
    );
  }

  /** `/admin/setNodeRdOnly`: unknown node is code 2 (Go answers every failure so). */
  async setRdOnly(kind: 'meta' | 'data', addr: string, rdOnly: boolean, options?: CallOptions): Promise<void> {
    const known = kind === 'meta' ? metaNodeByAddr(this.deps.replicator.model, addr) : dataNodeByAddr(this.deps.replicator.model, addr);
    if (known === undefined) throw new ParamError('addr', `[setNodeRdOnly] ${kind} node ${addr} is not exist`);
    await this.deps.replicator.propose(makeCommand('node.setRdOnly', { kind, addr, rdOnly }), options);
  }

  private async nodeFields(request: AddNodeRequest) {
    const addr = checkNodeAddr(await this.resolveAddr(request.addr));
    return {
      addr,
      zoneName: checkZoneName(request.zoneName === '' ? DEFAULT_ZONE_NAME : request.zoneName),
      heartbeatPort: checkOptionalPort(request.heartbeatPort, 'heartbeatPort'),
      replicaPort: checkOptionalPort(request.replicaPort, 'replicaPort'),
      nodeSetId: request.nodeSetId,
      nodeSetCapacity: this.deps.nodeSetCapacity,
    };
  }

  /** host:port -> ip:port ([ip]:port for IPv6); an IP literal is kept as written. */
  private async resolveAddr(addr: string): Promise<string> {
    const colon = addr.lastIndexOf(':');
    const host = colon < 0 ? '' : addr.slice(0, colon);
    if (host === '' || host.startsWith('[') || isIP(host) !== 0) return addr;
    const port = addr.slice(colon + 1);
    const controller = new AbortController();
    let ip: string;
    try {
      ip = await withDeadline(this.resolveHost(host, controller.signal), this.resolveTimeoutMs, controller);
    } catch {
      throw new ParamError('addr', `addr not legal: cannot resolve ${host}`);
    }
    return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
  }
}

/** `work`, or a rejection once `timeoutMs` passed (then `controller` is aborted). */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number, controller: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`no answer within ${timeoutMs} ms`);
      controller.abort(e);
      reject(e);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
