// The console's cluster overview: this member's Raft position, every other member's own position
// (its `/cubemaster/status`, asked over HTTP), and the leader's replication progress for each
// (`match`, from the leader's `/get/raftStatus` when this member does not lead). A member is
// healthy when it answers and its applied index is within LAG_HEALTHY_MAX_ENTRIES of the
// leader's commit index, taken in the same round.
//
// Several consoles polling every second must not multiply the calls to the other members: one
// overview is built at a time and reused for `cacheMs`.

import type { MasterPeerInfo, RaftControl, RaftInfo } from '../../cluster/ports.js';
import type { ModelView } from '../../model/index.js';
import type { ConsoleMember, ConsoleOverview, MemberHealth, MemberRole } from './contract.js';
import type { PeerClient } from './peer-client.js';

/**
 * Applied index this far behind the leader's commit still counts as healthy. Members' positions
 * are read a few milliseconds apart, and a leader commits thousands of entries per second under
 * load, so a healthy follower can look a few hundred entries behind; one that cannot keep up
 * falls further back every second.
 */
export const LAG_HEALTHY_MAX_ENTRIES = 1_000;
export const DEFAULT_OVERVIEW_CACHE_MS = 1_000;

export interface MemberOverviewOptions {
  readonly raft: RaftControl;
  readonly model: () => ModelView;
  readonly clusterName: string;
  readonly selfId: number;
  readonly peers: PeerClient;
  readonly nowMs: () => number;
  readonly cacheMs?: number;
}

/** A member's own position, as its `/cubemaster/status` reports it. */
interface PeerPosition {
  readonly role: MemberRole;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly stopping: boolean;
}

type PeerAnswer = { readonly ok: true; readonly position: PeerPosition } | { readonly ok: false; readonly error: string };

const ROLES: readonly MemberRole[] = ['leader', 'follower', 'candidate', 'pre-candidate'];

export class MemberOverview {
  private readonly cacheMs: number;
  private cached: { readonly atMs: number; readonly overview: ConsoleOverview } | null = null;
  private building: Promise<ConsoleOverview> | null = null;

  constructor(private readonly options: MemberOverviewOptions) {
    this.cacheMs = options.cacheMs ?? DEFAULT_OVERVIEW_CACHE_MS;
  }

  get(): Promise<ConsoleOverview> {
    const now = this.options.nowMs();
    if (this.cached !== null && now - this.cached.atMs < this.cacheMs) return Promise.resolve(this.cached.overview);
    this.building ??= this.build().then(
      (overview) => {
        this.cached = { atMs: this.options.nowMs(), overview };
        this.building = null;
        return overview;
      },
      (e: unknown) => {
        this.building = null;
        throw e;
      },
    );
    return this.building;
  }

  private async build(): Promise<ConsoleOverview> {
    const { raft, selfId, peers } = this.options;
    const info = raft.info();
    const others = info.peers.filter((p) => p.id !== selfId);
    const leaderPeer = info.role === 'leader' ? undefined : info.peers.find((p) => p.id === info.leaderId && p.id !== selfId);
    const [answers, matches] = await Promise.all([
      Promise.all(others.map((p) => askPosition(peers, p))),
      info.role === 'leader' ? Promise.resolve(leaderMatches(info)) : askMatches(peers, leaderPeer),
    ]);
    const positions = new Map<number, PeerAnswer>(others.map((p, i) => [p.id, answers[i]]));
    positions.set(selfId, { ok: true, position: { role: info.role, term: info.term, commit: info.commit, applied: info.applied, stopping: info.stopping } });
    const leaderAnswer = info.leaderId === 0 ? undefined : positions.get(info.leaderId);
    const leaderCommit = leaderAnswer?.ok === true ? leaderAnswer.position.commit : null;
    const members = [...info.peers]
      .sort((a, b) => a.id - b.id)
      .map((p) => memberRow(p, positions.get(p.id), matches.get(p.id) ?? null, leaderCommit));
    const model = this.options.model();
    return {
      clusterName: model.cluster?.name ?? this.options.clusterName,
      self: { id: selfId, httpAddr: info.peers.find((p) => p.id === selfId)?.httpAddr ?? '', role: info.role },
      leader: leaderOf(info),
      term: info.term,
      commit: info.commit,
      applied: info.applied,
      members,
      counts: {
        vols: model.vols.size,
        metaPartitions: model.metaPartitions.size,
        dataPartitions: model.dataPartitions.size,
        metaNodes: model.metaNodes.size,
        dataNodes: model.dataNodes.size,
        users: model.users.size,
      },
      lagHealthyMaxEntries: LAG_HEALTHY_MAX_ENTRIES,
      generatedAtMs: this.options.nowMs(),
    };
  }
}

/** The leader's own progress: its replica table, and its log's end for itself when the table leaves it out. */
function leaderMatches(info: RaftInfo): Map<number, number> {
  const out = new Map(info.replicas.map((r) => [r.id, r.match]));
  if (!out.has(info.nodeId)) out.set(info.nodeId, info.lastIndex);
  return out;
}

function leaderOf(info: RaftInfo): ConsoleOverview['leader'] {
  if (info.leaderId === 0) return null;
  const addr = info.peers.find((p) => p.id === info.leaderId)?.httpAddr ?? info.leaderHttpAddr;
  return { id: info.leaderId, httpAddr: addr };
}

function memberRow(peer: MasterPeerInfo, answer: PeerAnswer | undefined, match: number | null, leaderCommit: number | null): ConsoleMember {
  const base = { id: peer.id, httpAddr: peer.httpAddr, isLearner: peer.isLearner, match };
  if (answer === undefined || !answer.ok) {
    return { ...base, reachable: false, error: answer?.ok === false ? answer.error : 'not asked', role: null, term: null, commit: null, applied: null, lag: null, health: 'unreachable' };
  }
  const p = answer.position;
  const lag = leaderCommit === null ? null : Math.max(0, leaderCommit - p.applied);
  return { ...base, reachable: true, error: '', role: p.role, term: p.term, commit: p.commit, applied: p.applied, lag, health: health(p, lag) };
}

function health(p: PeerPosition, lag: number | null): MemberHealth {
  if (p.stopping) return 'stopping';
  if (lag === null) return 'unknown';
  return lag <= LAG_HEALTHY_MAX_ENTRIES ? 'healthy' : 'lagging';
}

async function askPosition(peers: PeerClient, peer: MasterPeerInfo): Promise<PeerAnswer> {
  try {
    return { ok: true, position: decodePosition(await peers.getData(peer.httpAddr, '/cubemaster/status')) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The leader's Match per member from its `/get/raftStatus` (tiglabs Status.Replicas); empty when it cannot be had. */
async function askMatches(peers: PeerClient, leader: MasterPeerInfo | undefined): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (leader === undefined) return out;
  try {
    const status = await peers.getData(leader.httpAddr, '/get/raftStatus');
    const replicas = isObject(status) && isObject(status.Replicas) ? status.Replicas : {};
    for (const [id, r] of Object.entries(replicas)) {
      if (isObject(r) && typeof r.Match === 'number' && Number.isSafeInteger(Number(id))) out.set(Number(id), r.Match);
    }
  } catch {
    // The overview shows match as unknown; the member rows still come from each member's status.
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `/cubemaster/status` data (ports.ts MemberStatus), checked field by field. */
function decodePosition(data: unknown): PeerPosition {
  if (!isObject(data)) throw new Error('status: not an object');
  const num = (name: string): number => {
    const v = data[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`status: ${name} is not a count`);
    return v;
  };
  const role = data.role;
  if (typeof role !== 'string' || !ROLES.includes(role as MemberRole)) throw new Error('status: unknown role');
  return { role: role as MemberRole, term: num('term'), commit: num('commit'), applied: num('applied'), stopping: data.stopping === true };
}
