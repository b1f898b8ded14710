// Master membership and leadership (spec 1.5, 5): /get/raftStatus, /raftNode/add,
// /raftNode/remove, /master/changeleader. They call RaftControl; no model command is involved.

import type { FastifyPluginCallback } from 'fastify';
import type { RaftInfo } from '../../cluster/ports.js';
import { GO_ZERO_TIME } from '../../model/index.js';
import { NotLeaderError } from '../../raft/core/errors.js';
import type { ApiContext } from '../context.js';
import type { Params } from '../params.js';
import { illegalArg, parseUint, unmatchedKey } from '../params.js';
import { defineRoute } from '../route.js';

/** The member a forwarded `/master/changeleader` wants to become leader (its raft id). */
export const TRANSFER_TARGET_HEADER = 'x-cubemaster-transfer-to';

/** The master's Raft group id (spec 5: `GroupID = 1`). */
const MASTER_RAFT_GROUP_ID = 1;

/** CubeFS's reply text; cfs-cli ignores string data. */
export const CHANGE_LEADER_MSG = ' changeMasterLeader. command success send to dest host but need check. ';

export const raftRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  // Spec 2, 11: a follower proxies it, so the answer is the leader's view.
  defineRoute(app, ctx, {
    url: '/get/raftStatus',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: () => raftStatus(ctx.raft.info()),
  });

  // Spec 5: a voter is added as a learner, caught up, then promoted (RaftControl.addMember), so a
  // master that does not exist cannot take the quorum hostage as in CubeFS (observed hazard).
  defineRoute(app, ctx, {
    url: '/raftNode/add',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const { id, addr } = raftNodeParams(call.params);
      await ctx.raft.addMember(id, addr, call.options(ctx.timeouts.membershipMs));
      return `add  raft node id :${id}, addr:${addr} successfully \n`;
    },
  });

  defineRoute(app, ctx, {
    url: '/raftNode/remove',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const { id, addr } = raftNodeParams(call.params);
      await ctx.raft.removeMember(id, call.options(ctx.timeouts.membershipMs));
      return `remove  raft node id :${id},adr:${addr} successfully\n`;
    },
  });

  // Spec 1.5, 5: "makes THAT node the leader". CubeFS has the node campaign (TryToLeader); here
  // the leader hands leadership over (Raft thesis 3.10), which keeps pre-vote and check-quorum
  // intact. On a follower the request is forwarded to the leader with this member as target;
  // the answer comes once leadership moved (CubeFS answers at once and says "need check").
  defineRoute(app, ctx, {
    url: '/master/changeleader',
    methods: ['GET', 'POST'],
    access: 'local',
    forwardHeaders: (c) => ({ [TRANSFER_TARGET_HEADER]: String(c.cluster.selfId) }),
    handle: async (call) => {
      const info = ctx.raft.info();
      if (info.role !== 'leader') throw new NotLeaderError(info.leaderId, 'changeleader');
      const target = call.forwarded ? transferTarget(call.request.headers[TRANSFER_TARGET_HEADER]) : ctx.cluster.selfId;
      if (target !== ctx.cluster.selfId) await ctx.raft.transferLeadership(target, call.options(ctx.timeouts.transferMs));
      return CHANGE_LEADER_MSG;
    },
  });

  done();
};

/** `id`* (uint64, not 0) and `addr`* (must contain ':'), as parseRequestForRaftNode. */
function raftNodeParams(params: Params): { id: number; addr: string } {
  const id = params.requireUint('id');
  if (id === 0) throw illegalArg('id', '0');
  const addr = params.require('addr');
  if (!addr.includes(':')) throw unmatchedKey('addr', 'expected ip:port');
  return { id, addr };
}

function transferTarget(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) throw illegalArg(TRANSFER_TARGET_HEADER, '');
  return parseUint(TRANSFER_TARGET_HEADER, value);
}

const STATE_NAMES: Readonly<Record<RaftInfo['role'], string>> = {
  leader: 'StateLeader',
  follower: 'StateFollower',
  candidate: 'StateCandidate',
  'pre-candidate': 'StatePreCandidate',
};

function replicaStateName(state: string): string {
  const s = state.toLowerCase();
  if (s.includes('probe')) return 'ReplicaStateProbe';
  if (s.includes('replicate')) return 'ReplicaStateReplicate';
  if (s.includes('snapshot')) return 'ReplicaStateSnapshot';
  return state;
}

/**
 * tiglabs raft `Status` (spec 1.5 /get/raftStatus). Queue lengths are 0: our driver has no
 * such queues; per-replica LastActive is not tracked (Go zero time).
 */
export function raftStatus(info: RaftInfo) {
  return {
    ID: MASTER_RAFT_GROUP_ID,
    NodeID: info.nodeId,
    Leader: info.leaderId,
    Term: info.term,
    Index: info.lastIndex,
    Commit: info.commit,
    Applied: info.applied,
    Vote: info.vote,
    PendQueue: 0,
    RecvQueue: 0,
    AppQueue: 0,
    TicketQueue: 0,
    Stopped: info.stopping,
    RestoringSnapshot: false,
    State: STATE_NAMES[info.role],
    Replicas: Object.fromEntries(
      [...info.replicas]
        .sort((a, b) => a.id - b.id)
        .map((r) => [
          String(r.id),
          {
            Match: r.match,
            Commit: info.commit,
            Next: r.next,
            State: replicaStateName(r.state),
            Snapshoting: replicaStateName(r.state) === 'ReplicaStateSnapshot',
            Paused: false,
            Active: r.active,
            LastActive: GO_ZERO_TIME,
            Inflight: 0,
          },
        ]),
    ),
  };
}
