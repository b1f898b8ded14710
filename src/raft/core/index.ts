// The Raft core's public surface.
export * from './types.js';
export * from './errors.js';
export * from './conf-change.js';
export { RawNode, type RaftStatus, type ProgressStatus } from './raw-node.js';
export { Raft, DEFAULT_LIMITS, type RaftConfig, type RaftLimits, type ProposalPosition } from './raft.js';
export { RaftLog } from './log.js';
export { MemoryStorage, CompactedError, UnavailableError, entrySizeBytes, type RaftStorage } from './storage.js';
export { SeededRandom, type Random } from './prng.js';
export { bootstrapLog, type BootstrapState } from './bootstrap.js';
export * from './describe.js';
