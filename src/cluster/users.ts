// Leader-side user operations (spec 1.5 user routes): validate the request with the model's
// rules in the order CubeFS answers them, resolve every non-deterministic input (generated
// AK/SK, password hash, create time), propose one command and return its apply result. A
// request that breaks a rule is refused here, before anything reaches the log; `apply` checks
// the same rules again on every member.

import type { CommandOf, UserRecord } from '../model/index.js';
import {
  ACCESS_KEY_LENGTH,
  checkAccessKey,
  checkSecretKey,
  checkUserId,
  checkUserTypeForCreate,
  checkUserTypeForUpdate,
  DEFAULT_USER_PASSWORD,
  makeCommand,
  passwordSha1,
  SECRET_KEY_LENGTH,
} from '../model/index.js';
import type { CallOptions, Replicator } from './ports.js';
import type { Clock, RandomSource } from './sources.js';
import { nowUnixSec, randomKey } from './sources.js';

/** `POST /user/create` body (proto.UserCreateParam); '' means "not given". */
export interface CreateUserRequest {
  readonly id: string;
  readonly password: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly type: number;
  readonly description: string;
}

/** `/user/update` body (proto.UserUpdateParam); '' and type 0 keep the current value. */
export interface UpdateUserRequest {
  readonly userId: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly type: number;
  readonly password: string;
  readonly description: string;
}

/** `/user/transferVol` body (proto.UserTransferVolParam). */
export interface TransferVolRequest {
  readonly volume: string;
  readonly userSrc: string;
  readonly userDst: string;
  readonly force: boolean;
}

export interface UserServiceDeps {
  readonly replicator: Replicator;
  readonly clock: Clock;
  readonly random: RandomSource;
}

export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  /**
   * Codes in CubeFS order: 55 id, 56 type, 59 ak, 60 sk; then, at apply, 45 duplicate id and 49
   * duplicate ak. A missing AK/SK is generated (spec 1.3); a missing password is CubeFS's
   * default user password.
   */
  async create(request: CreateUserRequest, options?: CallOptions): Promise<UserRecord> {
    const userId = checkUserId(request.id, 'id');
    const userType = checkUserTypeForCreate(request.type, 'type');
    const accessKey =
      request.accessKey === '' ? randomKey(this.deps.random, ACCESS_KEY_LENGTH) : checkAccessKey(request.accessKey, 'ak');
    const secretKey =
      request.secretKey === '' ? randomKey(this.deps.random, SECRET_KEY_LENGTH) : checkSecretKey(request.secretKey, 'sk');
    const command = makeCommand('user.create', {
      userId,
      accessKey,
      secretKey,
      passwordSha1: passwordSha1(request.password === '' ? DEFAULT_USER_PASSWORD : request.password),
      userType,
      description: request.description,
      createTimeUnixSec: nowUnixSec(this.deps.clock),
    });
    return this.deps.replicator.propose(command, options);
  }

  /** 46 unknown user, 59/60 bad keys, 56 bad type, 49 key taken, 57 root's type (at apply). */
  async update(request: UpdateUserRequest, options?: CallOptions): Promise<UserRecord> {
    const command: CommandOf<'user.update'> = makeCommand('user.update', {
      userId: request.userId,
      accessKey: request.accessKey === '' ? null : checkAccessKey(request.accessKey, 'access_key'),
      secretKey: request.secretKey === '' ? null : checkSecretKey(request.secretKey, 'secret_key'),
      passwordSha1: request.password === '' ? null : passwordSha1(request.password),
      userType: checkUserTypeForUpdate(request.type, 'type'),
      description: request.description === '' ? null : request.description,
    });
    return this.deps.replicator.propose(command, options);
  }

  /** `/user/updatePolicy`: 7 unknown vol, 46 unknown user, 61 when the user owns the vol. */
  async updatePolicy(userId: string, volume: string, actions: readonly string[], options?: CallOptions): Promise<UserRecord> {
    return this.deps.replicator.propose(makeCommand('user.updatePolicy', { userId, volume, actions: [...actions] }), options);
  }

  /** `/user/removePolicy`: 7 unknown vol, 46 unknown user. */
  async removePolicy(userId: string, volume: string, options?: CallOptions): Promise<UserRecord> {
    return this.deps.replicator.propose(makeCommand('user.removePolicy', { userId, volume }), options);
  }

  /**
   * `/user/deleteVolPolicy?name=`: every user's grants on the vol are removed, one command per
   * user (each idempotent, so a retry after a partial failure finishes the job). The owner's
   * claim stays while the vol exists (Go drops it too, leaving an owner who could then be
   * deleted with the vol still there); it goes with the vol's removal.
   */
  async deleteVolPolicy(volume: string, options?: CallOptions): Promise<void> {
    const holders = [...this.deps.replicator.model.users.values()].filter((u) => u.policy.authorizedVols.has(volume));
    for (const user of holders) await this.removePolicy(user.userId, volume, options);
  }

  /** `/user/transferVol`: 7 unknown vol, 46 unknown user, 50 when the source does not own it (unless force). */
  async transferVol(request: TransferVolRequest, options?: CallOptions): Promise<UserRecord> {
    const command = makeCommand('vol.transfer', { name: request.volume, fromUserId: request.userSrc, toUserId: request.userDst, force: request.force });
    return this.deps.replicator.propose(command, options);
  }

  /** 46 unknown, 57 root, 53 while the user owns vols (all decided at apply). */
  async delete(userId: string, options?: CallOptions): Promise<{ readonly userId: string }> {
    return this.deps.replicator.propose(makeCommand('user.delete', { userId }), options);
  }
}
