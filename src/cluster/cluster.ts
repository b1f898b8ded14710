// Leader-side cluster-wide operations: the one-time bootstrap (cluster record + root user, spec
// 2 checkPersistClusterValue / loadMetadata), `/cluster/freeze` and `/admin/setNodeInfo` (spec 1.5).

import type { CommandOf } from '../model/index.js';
import { makeCommand, passwordSha1, ROOT_PASSWORD, ACCESS_KEY_LENGTH, SECRET_KEY_LENGTH } from '../model/index.js';
import type { CallOptions, Replicator } from './ports.js';
import type { Clock, RandomSource } from './sources.js';
import { nowUnixSec, randomKey } from './sources.js';

export interface ClusterServiceDeps {
  readonly replicator: Replicator;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** `clusterName` of this master's config. */
  readonly clusterName: string;
}

export class ClusterService {
  constructor(private readonly deps: ClusterServiceDeps) {}

  /**
   * Proposed by a new leader: creates the cluster record (CreateTime = now) and the root user
   * (password "CubeFSRoot", generated keys) when missing; a no-op on a bootstrapped cluster, and
   * code 3 when the stored name differs from the configured one.
   */
  async bootstrap(options?: CallOptions): Promise<{ readonly clusterCreated: boolean; readonly rootCreated: boolean }> {
    const command = makeCommand('cluster.bootstrap', {
      clusterName: this.deps.clusterName,
      createTimeUnixSec: nowUnixSec(this.deps.clock),
      root: {
        accessKey: randomKey(this.deps.random, ACCESS_KEY_LENGTH),
        secretKey: randomKey(this.deps.random, SECRET_KEY_LENGTH),
        passwordSha1: passwordSha1(ROOT_PASSWORD),
      },
    });
    return this.deps.replicator.propose(command, options);
  }

  /** `/admin/setNodeInfo`: the given tunables replace the stored ones; null keeps a value. */
  async setNodeInfo(settings: NodeInfoSettings, options?: CallOptions): Promise<void> {
    await this.deps.replicator.propose(makeCommand('cluster.setNodeInfo', settings), options);
  }

  /** `/cluster/freeze?enable=`: sets DisableAutoAllocate (spec 1.5). */
  async setFrozen(frozen: boolean, options?: CallOptions): Promise<{ readonly frozen: boolean }> {
    return this.deps.replicator.propose(makeCommand('cluster.setFrozen', { frozen }), options);
  }
}

/** The tunables of `/admin/setNodeInfo` (keys as the route names them); null = not given. */
export type NodeInfoSettings = Omit<CommandOf<'cluster.setNodeInfo'>, 'v' | 'type'>;
