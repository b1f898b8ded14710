// cubemaster's own operator actions (not CubeFS routes), for the web console and the admin CLI.
// Every one is signed with the root user's keys (root-auth.ts, RouteSpec.auth 'root'): the CubeFS
// routes that do the same work stay as open as in Go for cfs-cli's sake, these do not.
//
//   POST /cubemaster/leader/transfer?target=<id>       move leadership (0: most up-to-date voter)
//   POST /cubemaster/node/decommission?kind=&addr=      move every replica off a meta or data node
//                                                       (asynchronous; progress in the node views)
//   GET  /cubemaster/members                          the group: voters, learners, their progress
//                                                       (read-only, not signed, like /get/raftStatus)
//   POST /cubemaster/members/learner?id=&addr=[&raftAddr=]  add a master as a learner (no vote);
//                                                       it catches up (progress: /get/raftStatus)
//   POST /cubemaster/members/promote?id=[&waitMs=]     make a caught-up learner a voter (waits for
//                                                       the catch-up at most waitMs)
//   POST /cubemaster/members/remove?id=                remove a master from the group
// Membership routes answer with the group as the leader sees it after the change.
import type { FastifyPluginCallback } from 'fastify';
import { dataNodeByAddr, DataNodeNotFoundError, metaNodeByAddr, MetaNodeNotFoundError } from '../../model/index.js';
import { ParamError } from '../../util/errors.js';
import type { RaftInfo } from '../../cluster/ports.js';
import { unmatchedKey } from '../params.js';
import type { ApiContext } from '../context.js';
import { defineRoute } from '../route.js';

export const operatorRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  defineRoute(app, ctx, {
    url: '/cubemaster/leader/transfer',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: async (call) => {
      const target = call.params.uint('target', 0);
      await ctx.raft.transferLeadership(target, call.options(ctx.timeouts.transferMs));
      return { leaderId: ctx.raft.info().leaderId };
    },
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/node/decommission',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: (call) => {
      const kind = call.params.require('kind');
      if (kind !== 'meta' && kind !== 'data') throw new ParamError('kind', `kind must be meta or data, got ${kind}`);
      const addr = call.params.require('addr');
      const model = ctx.replicator.model;
      if (kind === 'meta' && metaNodeByAddr(model, addr) === undefined) throw new MetaNodeNotFoundError(addr);
      if (kind === 'data' && dataNodeByAddr(model, addr) === undefined) throw new DataNodeNotFoundError(addr);
      const log = call.request.log;
      ctx.domain.ops
        .run(() => ctx.services.partitions.decommissionNode(kind, addr, 0))
        .then(
          (r) => log.info({ kind, addr, ...r }, 'node decommission finished'),
          (err: unknown) => log.warn({ kind, addr, err }, 'node decommission stopped'),
        );
      return { kind, addr, submitted: true };
    },
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/members',
    methods: ['GET'],
    access: 'leader',
    handle: () => membersView(ctx.raft.info()),
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/members/learner',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: async (call) => {
      const id = memberId(call.params.requireUint('id'));
      const addr = hostPort('addr', call.params.require('addr'));
      const raftAddr = call.params.get('raftAddr');
      await ctx.raft.addLearner(id, addr, raftAddr === undefined ? undefined : hostPort('raftAddr', raftAddr), call.options(ctx.timeouts.membershipMs));
      return membersView(ctx.raft.info());
    },
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/members/promote',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: async (call) => {
      const id = memberId(call.params.requireUint('id'));
      const waitMs = Math.min(call.params.uint('waitMs', ctx.timeouts.membershipMs), PROMOTE_WAIT_MAX_MS);
      await ctx.raft.promoteLearner(id, call.options(waitMs));
      return membersView(ctx.raft.info());
    },
  });

  defineRoute(app, ctx, {
    url: '/cubemaster/members/remove',
    methods: ['POST'],
    access: 'leader',
    auth: 'root',
    handle: async (call) => {
      const id = memberId(call.params.requireUint('id'));
      if (!ctx.raft.info().peers.some((p) => p.id === id)) throw new ParamError('id', `master ${id} is not a member of this group`);
      await ctx.raft.removeMember(id, call.options(ctx.timeouts.membershipMs));
      return membersView(ctx.raft.info());
    },
  });

  done();
};

/** Bound on how long a promote waits for the learner to catch up. */
const PROMOTE_WAIT_MAX_MS = 600_000;

function memberId(id: number): number {
  if (id === 0) throw new ParamError('id', 'id must be a master id > 0, got 0');
  return id;
}

function hostPort(name: string, value: string): string {
  if (!/^[^:\s]+:\d{1,5}$/.test(value)) throw unmatchedKey(name, 'expected ip:port');
  return value;
}

/** The group after a membership change: who is a voter, who a learner, how far each is. */
function membersView(info: RaftInfo) {
  const match = new Map(info.replicas.map((r) => [r.id, r.match]));
  return {
    leaderId: info.leaderId,
    term: info.term,
    commit: info.commit,
    members: info.peers.map((p) => ({ id: p.id, httpAddr: p.httpAddr, raftAddr: p.raftAddr, learner: p.isLearner, match: match.get(p.id) ?? null })),
  };
}
