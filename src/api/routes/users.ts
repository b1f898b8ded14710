// User routes (spec 1.5): /user/create (POST, JSON), /user/update (JSON), /user/delete,
// /user/info, /user/akInfo, /user/list, the policy routes /user/updatePolicy,
// /user/removePolicy, /user/deleteVolPolicy, /user/transferVol, and /vol/users. `data` is
// proto.UserInfo (views.ts) unless noted.

import type { FastifyPluginCallback } from 'fastify';
import type { CallOptions } from '../../cluster/ports.js';
import type { CreateUserRequest, UpdateUserRequest } from '../../cluster/users.js';
import type { UserRecord } from '../../model/index.js';
import { checkVolName, userByAccessKey, userInfo, userInfoByAccessKey, userInfoById, userList, usersOfVol, volByName, VolNotFoundError } from '../../model/index.js';
import { ParamError } from '../../util/errors.js';
import type { ApiContext } from '../context.js';
import { RecordBodyCache } from '../record-body-cache.js';
import type { JsonObject } from '../params.js';
import { jsonBool, jsonInt, jsonString, jsonStrings, keyNotFound } from '../params.js';
import type { RouteCall } from '../route.js';
import { defineRoute } from '../route.js';

/** proto.UserInfo bodies kept (record-body-cache.ts): ~0.5 KiB each. */
const USER_INFO_BODIES_MAX = 10_000;

export const userRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  // /user/info and /user/akInfo: userInfoById / userInfoByAccessKey, the body kept while the user is unchanged.
  const infoBodies = new RecordBodyCache((user: UserRecord) => userInfo(user, ctx.viewOptions), USER_INFO_BODIES_MAX);
  const existingVol = (name: string, call: RouteCall): Promise<string> => existingVolIn(ctx, name, call.options(ctx.timeouts.proposeMs));
  // Body {id, pwd, ak, sk, type, description}, as cfs-cli sends it (wire: cli-vs-single-master).
  defineRoute(app, ctx, {
    url: '/user/create',
    methods: ['POST'],
    access: 'leader',
    handle: async (call) => {
      const user = await ctx.services.users.create(createUserRequest(call.json()), call.options(ctx.timeouts.proposeMs));
      return userInfo(user, ctx.viewOptions);
    },
  });

  // Body {user_id, access_key, secret_key, type, password, description}; '' and 0 keep a value.
  defineRoute(app, ctx, {
    url: '/user/update',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const user = await ctx.services.users.update(updateUserRequest(call.json()), call.options(ctx.timeouts.proposeMs));
      return userInfo(user, ctx.viewOptions);
    },
  });

  defineRoute(app, ctx, {
    url: '/user/delete',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const { userId } = await ctx.services.users.delete(call.params.require('user'), call.options(ctx.timeouts.proposeMs));
      return `delete user[${userId}] successfully`;
    },
  });

  defineRoute(app, ctx, {
    url: '/user/info',
    methods: ['GET'],
    access: 'read',
    handle: (call) => {
      const model = ctx.replicator.model;
      const userId = call.params.require('user');
      const user = model.users.get(userId);
      return user === undefined ? userInfoById(model, userId, ctx.viewOptions) : infoBodies.body(user.userId, user);
    },
  });

  // The S3 gateway's key lookup. Code 2 for a missing or malformed key (Go's parse errors).
  defineRoute(app, ctx, {
    url: '/user/akInfo',
    methods: ['GET'],
    access: 'read',
    handle: (call) => {
      const ak = call.params.require('ak');
      if (!/^[a-zA-Z0-9]{16}$/.test(ak)) throw new ParamError('ak', 'accesskey can only be number and letters');
      const model = ctx.replicator.model;
      const user = userByAccessKey(model, ak);
      return user === undefined ? userInfoByAccessKey(model, ak, ctx.viewOptions) : infoBodies.body(user.userId, user);
    },
  });

  // Body {user_id, volume, subdir, policy: [...]}; the vol is checked first (7), as Go does.
  defineRoute(app, ctx, {
    url: '/user/updatePolicy',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const body = call.json();
      const volume = await existingVol(jsonString(body, 'volume'), call);
      const user = await ctx.services.users.updatePolicy(jsonString(body, 'user_id'), volume, jsonStrings(body, 'policy'), call.options(ctx.timeouts.proposeMs));
      return userInfo(user, ctx.viewOptions);
    },
  });

  // Body {user_id, volume}.
  defineRoute(app, ctx, {
    url: '/user/removePolicy',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const body = call.json();
      const volume = await existingVol(jsonString(body, 'volume'), call);
      const user = await ctx.services.users.removePolicy(jsonString(body, 'user_id'), volume, call.options(ctx.timeouts.proposeMs));
      return userInfo(user, ctx.viewOptions);
    },
  });

  defineRoute(app, ctx, {
    url: '/user/deleteVolPolicy',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const name = checkVolName(call.params.require('name'));
      await ctx.services.users.deleteVolPolicy(name, call.options(ctx.timeouts.proposeMs));
      return `delete vol[${name}] policy successfully`;
    },
  });

  // Body {volume, user_src, user_dst, force}; the reply is the new owner.
  defineRoute(app, ctx, {
    url: '/user/transferVol',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const body = call.json();
      const request = { volume: await existingVol(jsonString(body, 'volume'), call), userSrc: jsonString(body, 'user_src'), userDst: jsonString(body, 'user_dst'), force: jsonBool(body, 'force') };
      const user = await ctx.services.users.transferVol(request, call.options(ctx.timeouts.proposeMs));
      return userInfo(user, ctx.viewOptions);
    },
  });

  defineRoute(app, ctx, {
    url: '/vol/users',
    methods: ['GET'],
    access: 'read',
    handle: (call) => usersOfVol(ctx.replicator.model, checkVolName(call.params.require('name'))),
  });

  defineRoute(app, ctx, {
    url: '/user/list',
    methods: ['GET'],
    access: 'read',
    handle: (call) => userList(ctx.replicator.model, call.params.string('keywords'), ctx.viewOptions),
  });

  done();
};

/**
 * Go answers an unknown vol of the policy routes with code 7 before looking at the user. After
 * a read barrier: a leader cut off from its peers must not refuse from a stale model.
 */
async function existingVolIn(ctx: ApiContext, name: string, options: CallOptions): Promise<string> {
  await ctx.replicator.readBarrier(options);
  if (volByName(ctx.replicator.model, name) === undefined) throw new VolNotFoundError(name);
  return name;
}

function createUserRequest(body: JsonObject): CreateUserRequest {
  return {
    id: jsonString(body, 'id'),
    password: jsonString(body, 'pwd'),
    accessKey: jsonString(body, 'ak'),
    secretKey: jsonString(body, 'sk'),
    type: jsonInt(body, 'type'),
    description: jsonString(body, 'description'),
  };
}

function updateUserRequest(body: JsonObject): UpdateUserRequest {
  const userId = jsonString(body, 'user_id');
  if (userId === '') throw keyNotFound('user_id');
  return {
    userId,
    accessKey: jsonString(body, 'access_key'),
    secretKey: jsonString(body, 'secret_key'),
    type: jsonInt(body, 'type'),
    password: jsonString(body, 'password'),
    description: jsonString(body, 'description'),
  };
}
