// The domain model's public surface, for the FSM, the cluster services, the API and tests.

export * from './state.js';
export * from './vol-state.js';
export * from './recovery-state.js';
export { RECOVERY_BATCH_MAX, RECOVERY_VOL_META_PARTITIONS_MAX } from './recovery-command-decoders.js';
export * from './live-state.js';
export * from './live.js';
export * from './commands.js';
export * from './command-codec.js';
export * from './apply/index.js';
export * from './apply/results.js';
export * from './changes.js';
export * from './records.js';
export * from './digest.js';
export * from './invariants.js';
export * from './validate.js';
export * from './password.js';
export * from './views.js';
export * from './vol-views.js';
export * from './topology-views.js';
export * from './diagnosis-views.js';
export * from './time-format.js';
export * from './errors.js';
export * from './packed-map.js';
export * from './packed-users.js';
export * from './packed-user-bytes.js';
export * from './packed-rows.js';
