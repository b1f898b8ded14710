// User routes (spec 1.5): /user/create (POST, JSON), /user/update (JSON), /user/delete,
// /user/info, /user/list. `data` is proto.UserInfo (views.ts).

import type { FastifyPluginCallback } from 'fastify';
import type { CreateUserRequest, UpdateUserRequest } from '../../cluster/users.js';
import { userInfo, userInfoById, userList } from '../../model/index.js';
import type { ApiContext } from '../context.js';
import type { JsonObject } from '../params.js';
import { jsonInt, jsonObject, jsonString, keyNotFound } from '../params.js';
import { defineRoute } from '../route.js';

export const userRoutes: FastifyPluginCallback<{ ctx: ApiContext }> = (app, { ctx }, done) => {
  // Body {id, pwd, ak, sk, type, description}, as cfs-cli sends it (wire: cli-vs-single-master).
  defineRoute(app, ctx, {
    url: '/user/create',
    methods: ['POST'],
    access: 'leader',
    handle: async (call) => {
      const user = await ctx.services.users.create(createUserRequest(jsonObject(call.body)), call.options(ctx.timeouts.proposeMs));
      return userInfo(user, ctx.viewOptions);
    },
  });

  // Body {user_id, access_key, secret_key, type, password, description}; '' and 0 keep a value.
  defineRoute(app, ctx, {
    url: '/user/update',
    methods: ['GET', 'POST'],
    access: 'leader',
    handle: async (call) => {
      const user = await ctx.services.users.update(updateUserRequest(jsonObject(call.body)), call.options(ctx.timeouts.proposeMs));
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
    handle: (call) => userInfoById(ctx.replicator.model, call.params.require('user'), ctx.viewOptions),
  });

  defineRoute(app, ctx, {
    url: '/user/list',
    methods: ['GET'],
    access: 'read',
    handle: (call) => userList(ctx.replicator.model, call.params.string('keywords'), ctx.viewOptions),
  });

  done();
};

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
