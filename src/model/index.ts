// The domain model's public surface, for the FSM, the cluster services, the API and tests.

export * from './state.js';
export * from './live.js';
export * from './commands.js';
export * from './apply.js';
export * from './changes.js';
export * from './records.js';
export * from './digest.js';
export * from './invariants.js';
export * from './validate.js';
export * from './password.js';
export * from './views.js';
export * from './time-format.js';
export * from './errors.js';
export { ROOT_USER_ID } from './apply-cluster.js';
